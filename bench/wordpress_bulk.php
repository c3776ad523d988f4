<?php
/*
 * Adds published posts to the benchmark's WordPress bed until it holds WP_BENCH_POSTS of them (idempotent: a
 * second run adds none). Run by bench/wordpress_crawl.py with php-cli, after tests/realcms/wordpress/bed.py
 * installed and seeded the site. Each post: a title, ~3 KB of paragraphs from a fixed vocabulary, a category.
 */
define('ABSPATH', getenv('WP_BED_DOCROOT') . '/');
$_SERVER['HTTP_HOST'] = getenv('WP_BED_HOST');
$_SERVER['REQUEST_URI'] = '/';
require_once ABSPATH . 'wp-load.php';

$want = (int) getenv('WP_BENCH_POSTS');
$have = (int) wp_count_posts('post')->publish;
$words = explode(' ', 'crawler index search document permission source field metadata batch push query result '
    . 'content page site author category tag update delete identity group user schedule report fingerprint');
mt_srand(7);
wp_defer_term_counting(true);
for ($i = $have; $i < $want; $i++) {
    $paras = [];
    for ($p = 0; $p < 6; $p++) {
        $sentence = [];
        for ($w = 0; $w < 80; $w++) $sentence[] = $words[mt_rand(0, count($words) - 1)];
        $paras[] = '<p>' . ucfirst(implode(' ', $sentence)) . '.</p>';
    }
    $id = wp_insert_post([
        'post_title' => "Bench post $i " . $words[$i % count($words)],
        'post_content' => implode("\n", $paras),
        'post_status' => 'publish',
        'post_author' => 1,
    ], true);
    if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message() . "\n"); exit(1); }
}
wp_defer_term_counting(false);
echo json_encode(['published' => (int) wp_count_posts('post')->publish]), "\n";
