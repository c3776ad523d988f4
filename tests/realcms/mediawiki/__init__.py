"""The MediaWiki bed (Debian's mediawiki on SQLite, nginx, php-fpm) and its end-to-end tests."""
