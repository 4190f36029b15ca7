# shellcheck shell=bash
# scenarios.sh: one function a program, sourced by inner.sh inside the
# program's namespaces. Each uses the program as its image runs it
# (launch_cmd, run_entry, start_server) and writes what a client sees to
# the transcript (note, http): HTTP statuses and bodies, query results,
# the scripts' stdout and exit status; never server logs, times or pids.

# apache2: a file, a directory listing (mod_autoindex), a CGI (mod_cgid), a 404
scenario_apache2() {
	start_server
	wait_port 80 || return 0
	HTTP_PORT=80 http /index.html /files/ '/cgi-bin/hello.cgi?who=whittle' /missing.html
}

# memcached: set, get, add, incr, append, delete over the text protocol
scenario_memcached() {
	start_server
	wait_port 11211 || return 0
	$PY - >>"$TR" 2>&1 <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", 11211), 10)
f = s.makefile("rb")
def cmd(line, data=None, endings=(b"END", b"STORED", b"NOT_STORED", b"DELETED", b"NOT_FOUND", b"ERROR")):
    s.sendall(line.encode() + b"\r\n" + (data.encode() + b"\r\n" if data is not None else b""))
    out = []
    while True:
        l = f.readline().rstrip(b"\r\n")
        out.append(l.decode())
        if l in endings or l.isdigit() or l.startswith(b"VERSION") or l.startswith(b"CLIENT_ERROR") or l.startswith(b"SERVER_ERROR"):
            break
    print(line, "->", " | ".join(out))
cmd("set greeting 5 0 5", "hello")
cmd("get greeting")
cmd("add greeting 0 0 3", "bye")
cmd("set counter 0 0 2", "40")
cmd("incr counter 2")
cmd("append greeting 0 0 8", " whittle")
cmd("gets greeting".replace("gets", "get"))
cmd("delete greeting")
cmd("get greeting")
cmd("get nothing")
PY
}

# mariadb: the data directory is initialised as a volume would be, with
# the original image's tools (mariadb-install-db, the zone tables from
# mariadb-tzinfo-to-sql, a user for TCP), then mariadbd of the image under
# test serves it and the original's client queries it over TCP.
scenario_mariadb() {
	client_root
	local sock=/run/mysqld/init.sock
	chroot "$CROOT" mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
		>>"$OUT/init.log" 2>&1 || { note "## mariadb-install-db failed"; return 0; }
	chroot "$CROOT" mariadbd --user=mysql --skip-networking --socket=$sock >>"$OUT/init.log" 2>&1 &
	local i
	for ((i = 0; i < 300; i++)); do
		[ -S "$CROOT$sock" ] && chroot "$CROOT" mariadb --socket=$sock -e 'select 1' >/dev/null 2>&1 && break
		sleep 0.2
	done
	{
		chroot "$CROOT" mariadb-tzinfo-to-sql /usr/share/zoneinfo
		echo "CREATE USER 'app'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON *.* TO 'app'@'%';"
	} 2>>"$OUT/init.log" | chroot "$CROOT" mariadb --socket=$sock mysql >>"$OUT/init.log" 2>&1 ||
		{ note "## loading the zone tables failed"; return 0; }
	chroot "$CROOT" mariadb-admin --socket=$sock shutdown >>"$OUT/init.log" 2>&1
	wait
	# the volume, initialised: into the root under test
	mkdir -p "$ROOT/var/lib/mysql"
	cp -a "$CROOT/var/lib/mysql/." "$ROOT/var/lib/mysql/"
	start_server
	wait_port 3306 || return 0
	chroot "$CROOT" mariadb -h 127.0.0.1 -P 3306 -u app -ppw --batch --skip-column-names >>"$TR" 2>&1 <<'SQL' || note "## mariadb client failed"
CREATE DATABASE shop;
USE shop;
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40)) ENGINE=InnoDB;
CREATE TABLE prices (item INT, price DECIMAL(8,2), FOREIGN KEY (item) REFERENCES items(id)) ENGINE=InnoDB;
INSERT INTO items VALUES (1, 'apple'), (2, 'pear'), (3, 'Straße');
INSERT INTO prices VALUES (1, 0.50), (2, 0.75), (3, 12.00), (1, 0.55);
SELECT i.name, COUNT(*), SUM(p.price) FROM items i JOIN prices p ON p.item = i.id GROUP BY i.name ORDER BY i.name;
SELECT UPPER(name), LENGTH(name), CHAR_LENGTH(name), SHA2(name, 256) FROM items ORDER BY id;
SELECT CONVERT_TZ('2025-01-15 12:00:00', 'UTC', 'Europe/Paris'), CONVERT_TZ('2025-07-15 12:00:00', 'UTC', 'America/New_York');
SELECT COUNT(*) > 300 FROM mysql.time_zone_name;
SELECT JSON_EXTRACT('{"a": [1, 2, 3]}', '$.a[1]'), DATE_FORMAT('2025-05-20', '%W %M %Y');
SELECT @@character_set_server, @@default_storage_engine;
SQL
}

# git: init, two commits, log, show, diff, a clone over file:// and its log
scenario_git() {
	local env=(--env GIT_AUTHOR_NAME=Whittle --env GIT_AUTHOR_EMAIL=w@example.org
		--env GIT_COMMITTER_NAME=Whittle --env GIT_COMMITTER_EMAIL=w@example.org
		--env GIT_AUTHOR_DATE=1747699200+0000 --env GIT_COMMITTER_DATE=1747699200+0000)
	mkdir -p "$ROOT/git"
	run_entry "${env[@]}" -- init -q -b main repo
	printf 'hello\n' >"$ROOT/git/repo/a.txt"
	mkdir -p "$ROOT/git/repo/sub"
	printf 'one\ntwo\n' >"$ROOT/git/repo/sub/b.txt"
	run_entry "${env[@]}" -- -C repo add .
	run_entry "${env[@]}" -- -C repo commit -q -m first
	printf 'hello again\n' >>"$ROOT/git/repo/a.txt"
	run_entry "${env[@]}" -- -C repo commit -q -a -m second
	run_entry "${env[@]}" -- -C repo log --format='%H %an %ad %s' --date=iso-strict
	run_entry "${env[@]}" -- -C repo show --stat --format=%s HEAD
	run_entry "${env[@]}" -- -C repo diff HEAD~1 HEAD
	run_entry "${env[@]}" -- clone -q file:///git/repo clone
	run_entry "${env[@]}" -- -C clone log --oneline
	run_entry "${env[@]}" -- -C clone cat-file -p HEAD:sub/b.txt
}

# one-shot programs: the image's own Entrypoint/Cmd, stdout and exit status
scenario_java() { run_entry; }
scenario_node() { run_entry; }
scenario_ruby() { run_entry; }
scenario_perl() { run_entry; }
scenario_python() { run_entry; }
scenario_bash() { run_entry; }

# flask: its development server, three URLs
scenario_flask() {
	start_server
	wait_port 5000 || return 0
	HTTP_PORT=5000 http / '/hash?word=whittle' /missing
}

# flask_probe (realprog/flask-probe): the routes its probes asked for, and
# requests no probe made: other words, an unknown URL, a POST on "/"
scenario_flask_probe() {
	start_server
	wait_port 5000 || return 0
	HTTP_PORT=5000 http / '/hash?word=whittle' /missing '/hash?word=' '/hash?word=caf%C3%A9%20%E2%9C%93' \
		'/hash?other=1' /nowhere
	note "## POST /"
	curl -sS --max-time 20 -X POST -d x=1 -o "$OUT/body" -w '%{http_code}\n' http://127.0.0.1:5000/ >>"$TR" 2>&1 ||
		note "## curl failed"
	cat "$OUT/body" >>"$TR" 2>/dev/null || true
	rm -f "$OUT/body"
}
