<?php
/*
 * Plugin Name: pushcrawl bed offline
 * Description: must-use plugin of the test bed: no e-mail, no emoji CDN, no DNS prefetch hints, no pings.
 */
remove_action('wp_head', 'print_emoji_detection_script', 7);
remove_action('admin_print_scripts', 'print_emoji_detection_script');
remove_action('wp_print_styles', 'print_emoji_styles');
remove_action('admin_print_styles', 'print_emoji_styles');
add_filter('emoji_svg_url', '__return_false');
add_filter('wp_resource_hints', function ($urls, $type) { return $type === 'dns-prefetch' ? [] : $urls; }, 10, 2);
add_filter('pre_wp_mail', '__return_false');
add_filter('pre_option_default_pingback_flag', '__return_zero');
add_filter('pre_option_default_ping_status', function () { return 'closed'; });
add_filter('pre_option_show_avatars', '__return_zero');
