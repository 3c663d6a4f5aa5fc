# Entry point of the sample app: writes /version from the build-time VERSION, then serves files on $PORT
# (App Runner sets PORT; 8080 otherwise). The broken variant (HEALTH=fail) has no /health: it answers 404.
mkdir -p /tmp/www
/bin/busybox cp -r /www/. /tmp/www/
printf '%s\n' "$APP_VERSION" > /tmp/www/version
if [ "$APP_HEALTH" = "ok" ]; then printf 'ok\n' > /tmp/www/health; fi
exec /bin/busybox httpd -f -p "${PORT:-8080}" -h /tmp/www
