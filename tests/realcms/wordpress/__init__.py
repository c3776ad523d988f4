"""The WordPress bed (Debian's wordpress on nginx, php-fpm and MariaDB) and its end-to-end tests."""
