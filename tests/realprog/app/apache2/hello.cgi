#!/bin/sh
# A CGI script (mod_cgid): the query string and a computed line.
echo "Content-Type: text/plain"
echo
echo "cgi query: $QUERY_STRING"
echo "cgi method: $REQUEST_METHOD"
printf 'cgi sum: %d\n' $((6 * 7))
