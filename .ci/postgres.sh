# Start and stop a throwaway PostgreSQL cluster on a free loopback port, as user postgres.
# Usage: source .ci/postgres.sh; start_postgres; ... "$PG_URL" ...; stop_postgres
PG_BIN=${PG_BIN:-$(dirname "$(readlink -f "$(command -v initdb)")")}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    PG_DIR=$(mktemp -d /tmp/calpae-pg.XXXXXX)
    PG_PORT=$(free_port)
    if [ "$(id -u)" = "0" ]; then chown postgres "$PG_DIR"; fi
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off" start >/dev/null
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/calpae"
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres calpae
    export PG_DIR PG_PORT PG_URL
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') sur 127.0.0.1:$PG_PORT ($PG_DIR)"
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
        rm -rf "$PG_DIR"
    fi
}
