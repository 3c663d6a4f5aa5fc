# Entry point of the sample app: writes /version from the build-time VERSION, then serves files on $PORT
# (App Runner sets PORT; 8080 otherwise). The broken variant (HEALTH=fail) has no /health: it answers 404.
mkdir -p /tmp/www
/bin/busybox cp -r /www/. /tmp/www/
printf '%s\n' "$APP_VERSION" > /tmp/www/version
if [ "$APP_HEALTH" = "ok" ]; then printf 'ok\n' > /tmp/www/health; fi
# /cgi-bin/api: the app's traffic; answers 500 to APP_ERROR_PERCENT % of requests (0 by default).
mkdir -p /tmp/www/cgi-bin
{
  printf '#!/bin/busybox sh\n'
  printf 'if [ $((RANDOM %% 100)) -lt %d ]; then\n' "${APP_ERROR_PERCENT:-0}"
  printf '  printf "Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\nerror\\n"\n'
  printf 'else\n'
  printf '  printf "Content-Type: text/plain\\r\\n\\r\\nok %%s\\n" "%s"\n' "$APP_VERSION"
  printf 'fi\n'
} > /tmp/www/cgi-bin/api
/bin/busybox chmod +x /tmp/www/cgi-bin/api
exec /bin/busybox httpd -f -p "${PORT:-8080}" -h /tmp/www
