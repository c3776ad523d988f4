<?php
/*
 * Seeds the WordPress bed through WordPress's own PHP API (no WP-CLI): install, users, terms, a page tree,
 * posts in every status, non-ASCII titles and slugs, a post over 1 MB, media, comments, an Application
 * Password. Run by bed.py with php-cli; prints what the tests need (ids, the application password) as JSON.
 */
define('ABSPATH', getenv('WP_BED_DOCROOT') . '/');
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = getenv('WP_BED_HOST');
$_SERVER['REQUEST_URI'] = '/';
require_once ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/image.php';

function fail($what) { fwrite(STDERR, "seed: $what\n"); exit(1); }
function ok($id, $what) { if (is_wp_error($id) || !$id) fail("$what: " . (is_wp_error($id) ? $id->get_error_message() : 'failed')); return $id; }

$install = wp_install('Pushcrawl bed', 'admin', 'admin@bed.invalid', false, '', 'admin-bed-password');
if (is_wp_error($install)) fail('install: ' . $install->get_error_message());
update_option('timezone_string', 'UTC');
update_option('default_pingback_flag', 0);
update_option('default_ping_status', 'closed');
update_option('show_avatars', 0);
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
flush_rewrite_rules(false);

$users = ['admin' => 1];
foreach ([['alice', 'editor', 'Alice Émond'], ['bob', 'author', 'Bob Marín'], ['carol', 'contributor', 'Carol Ōta'],
          ['dave', 'subscriber', 'Dave Reader']] as [$login, $role, $name]) {
    $users[$login] = ok(wp_insert_user(['user_login' => $login, 'user_pass' => "$login-bed-password",
        'user_email' => "$login@bed.invalid", 'display_name' => $name, 'role' => $role]), "user $login");
}
wp_set_current_user(1);

$cat = fn($name, $parent = 0) => ok(wp_insert_term($name, 'category', ['parent' => $parent]), "category $name")['term_id'];
$notes = $cat('Field notes');
$gear = $cat('Équipement');
$tents = $cat('Tents', $gear);

$ids = [];
function post($key, $title, $body, $author, $extra = []) {
    global $ids;
    $ids[$key] = ok(wp_insert_post(array_merge(['post_title' => $title, 'post_content' => $body,
        'post_author' => $author, 'post_status' => 'publish'], $extra), true), "post $key");
    return $ids[$key];
}

// a page tree: About > Team > Volunteers, and Contact
$about = post('about', 'About the bed', '<p>This site is a test bed for the pushcrawl connectors.</p>', 1, ['post_type' => 'page']);
$team = post('team', 'Team', '<p>The people behind the coastal survey.</p>', 1, ['post_type' => 'page', 'post_parent' => $about]);
post('volunteers', 'Volunteers', '<p>Volunteers count seabirds every spring.</p>', $users['alice'],
     ['post_type' => 'page', 'post_parent' => $team]);
post('contact', 'Contact', '<p>Write to the harbour office.</p>', 1, ['post_type' => 'page']);

// published posts
$tides = post('tides', 'Tide tables for the northern coast', '<p>Spring tides peak two days after the new moon.</p>',
     $users['bob'], ['post_category' => [$notes], 'tags_input' => ['coast', 'winter']]);
post('creme', 'Crème brûlée au réveillon', '<p>Une crème caramélisée pour le réveillon du Nouvel An.</p>',
     $users['alice'], ['post_category' => [$gear], 'tags_input' => ['café']]);
post('tokyo', '東京の地図', '<p>東京の地図 and a tokyomapword legend.</p>', $users['carol'], ['post_category' => [$notes]]);
post('kueste', 'Über die Küste', '<p>Eine Küstenwanderung bei Ebbe.</p>', $users['bob'],
     ['post_category' => [$tents], 'tags_input' => ['coast']]);
$para = '<p>' . str_repeat('Logbook entry: wind north-west, sea state three, visibility good. ', 40) . "</p>\n";
post('logbook', 'The complete logbook', str_repeat($para, 420) . '<p>logbookterminus</p>', $users['alice'],
     ['post_category' => [$notes]]);
$welcome = post('welcome', 'Welcome to the bed', '<p>Start here.</p>', 1);
stick_post($welcome);
$photo = post('photo', 'Lighthouse photo', '<p>The lighthouse at dusk.</p>', $users['bob']);
post('locked', 'Harbour codes', '<p>lockedharbourword</p>', $users['alice'], ['post_password' => 'sesame']);

// not public: private, draft, pending, scheduled
$private = post('private', 'Budget memo', '<p>The quarterdeckium budget.</p>', $users['alice'], ['post_status' => 'private']);
post('draft', 'Draft route plan', '<p>draftwordzzz</p>', $users['bob'], ['post_status' => 'draft']);
post('pending', 'Pending review', '<p>pendingwordzzz</p>', $users['carol'], ['post_status' => 'pending']);
post('future', 'Scheduled announcement', '<p>futurewordzzz</p>', $users['bob'],
     ['post_status' => 'future', 'post_date' => gmdate('Y-m-d H:i:s', time() + 30 * 86400)]);

// comments: two approved, one held for moderation
foreach ([['Gull', 'Seen at low tide too.', 1], ['Tern', 'Thanks for the table.', 1], ['Spam', 'buy now', 0]] as [$who, $text, $ok]) {
    ok(wp_insert_comment(['comment_post_ID' => $tides, 'comment_author' => $who, 'comment_content' => $text,
        'comment_approved' => $ok, 'comment_author_email' => strtolower($who) . '@bed.invalid']), "comment $who");
}

// media: a PNG attached to a published post, a PDF standing alone, a PDF attached to the private post
function pdf($text) {
    $objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
        null, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'];
    $stream = "BT /F1 18 Tf 20 80 Td ($text) Tj ET";
    $objs[3] = '<< /Length ' . strlen($stream) . " >>\nstream\n$stream\nendstream";
    $out = "%PDF-1.4\n"; $offsets = [];
    foreach ($objs as $i => $o) { $offsets[] = strlen($out); $out .= ($i + 1) . " 0 obj\n$o\nendobj\n"; }
    $xref = strlen($out);
    $out .= "xref\n0 " . (count($objs) + 1) . "\n0000000000 65535 f \n";
    foreach ($offsets as $o) $out .= sprintf("%010d 00000 n \n", $o);
    return $out . "trailer\n<< /Size " . (count($objs) + 1) . " /Root 1 0 R >>\nstartxref\n$xref\n%%EOF\n";
}
function media($key, $name, $bytes, $mime, $title, $parent, $caption = '', $alt = '') {
    global $ids;
    $up = wp_upload_bits($name, null, $bytes);
    if (!empty($up['error'])) fail("upload $name: " . $up['error']);
    $id = ok(wp_insert_attachment(['post_mime_type' => $mime, 'post_title' => $title, 'post_excerpt' => $caption,
        'post_content' => '', 'post_status' => 'inherit'], $up['file'], $parent, true), "media $name");
    wp_update_attachment_metadata($id, wp_generate_attachment_metadata($id, $up['file']));
    if ($alt) update_post_meta($id, '_wp_attachment_image_alt', $alt);
    $ids[$key] = $id;
    return $id;
}
$img = imagecreatetruecolor(64, 48);
imagefill($img, 0, 0, imagecolorallocate($img, 20, 60, 120));
ob_start(); imagepng($img); $png = ob_get_clean();
set_post_thumbnail($photo, media('image', 'lighthouse.png', $png, 'image/png', 'Lighthouse at dusk', $photo,
    'The old lighthouse', 'A white lighthouse'));
media('pdf', 'tidewater-ledger.pdf', pdf('Tidewater ledger tidewaterledgerword'), 'application/pdf', 'Tidewater ledger', 0);
media('private_pdf', 'budget.pdf', pdf('Secret budget secretledgerword'), 'application/pdf', 'Budget sheet', $private);

[$app_password] = ok(WP_Application_Passwords::create_new_application_password(1, ['name' => 'pushcrawl']), 'app password');
echo json_encode(['ids' => $ids, 'users' => $users, 'app_user' => 'admin', 'app_password' => $app_password]), "\n";
