#!/bin/sh
# tools/fetch-data against a local HTTP server on 127.0.0.1 (a random free port, started
# and stopped here; nothing else is contacted): small fake files stand in for the data
# sets, and HC_FETCH_SUMS gives their checksums. Cases: good files (and a second run that
# fetches nothing), a corrupt file (checksum mismatch), a partial .part resumed with a
# Range request, a transfer cut mid-file and resumed, a server that cannot resume, a
# stale .part that does not match, a .part already whole (416), a missing file (404),
# the CIFAR-10 tarball unpacked (and a corrupt one), and bad arguments. Never anything
# half-written or corrupt under a final name.
#
# The server is python3's http.server with Range support added (python3 -m http.server
# itself ignores Range, so it could not show a resumed download).
set -u
: "${srcdir:=.}"
FETCH=${FETCH:-$srcdir/tools/fetch-data}
tmp=$(mktemp -d) || exit 1
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export HC_FETCH_RETRY_DELAY=0

i=0
pass() { i=$((i + 1)); echo "ok $i - $*"; }
fail() { i=$((i + 1)); echo "not ok $i - $*"; }
check() {  # description, then a command: ok when it succeeds
    d=$1; shift
    if "$@"; then pass "$d"; else fail "$d"; show; fi
}

if ! command -v python3 >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
    echo "1..0 # SKIP needs python3 (the test server) and curl"
    exit 0
fi

# ---- the server ----
cat > "$tmp/server.py" <<'PYTHON'
import http.server, os, sys, threading

# root: the files; portfile: where the chosen port goes; log: one line per GET;
# ctl/cut: a name whose next plain GET sends half the body and drops the connection;
# ctl/norange: a name for which Range is ignored (always 200, the whole file).
root, portfile, log, ctl = sys.argv[1:5]
lock = threading.Lock()

def ctl_name(what):
    try:
        with open(os.path.join(ctl, what)) as f:
            return f.read().strip()
    except OSError:
        return ""

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        name = self.path.lstrip("/")
        rng = self.headers.get("Range", "")
        with lock, open(log, "a") as f:
            f.write("GET %s %s\n" % (name, rng or "-"))
        path = os.path.join(root, name)
        if "/" in name or not os.path.isfile(path):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with open(path, "rb") as f:
            data = f.read()
        size, start = len(data), 0
        if rng.startswith("bytes=") and name != ctl_name("norange"):
            start = int(rng[6:].split("-")[0])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if not rng and name == ctl_name("cut"):
            os.remove(os.path.join(ctl, "cut"))
            self.wfile.write(data[: size // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
PYTHON

mkdir "$tmp/www" "$tmp/ctl"
: > "$tmp/log"
python3 "$tmp/server.py" "$tmp/www" "$tmp/port" "$tmp/log" "$tmp/ctl" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
if [ ! -s "$tmp/port" ]; then echo "Bail out! the test server did not start"; exit 1; fi
URL=http://127.0.0.1:$(cat "$tmp/port")

# ---- fake files and their checksums ----
FILES="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"
n=0
for f in $FILES; do
    n=$((n + 1))
    head -c $((20000 * n + 777)) /dev/urandom > "$tmp/www/$f"
done
# shellcheck disable=SC2086
(cd "$tmp/www" && sha256sum $FILES) > "$tmp/sha256"       # MNIST style
# shellcheck disable=SC2086
(cd "$tmp/www" && md5sum $FILES) > "$tmp/md5"             # Fashion-MNIST style
same() { cmp -s "$tmp/www/$1" "$2/$1"; }
all_same() { for f in $FILES; do same "$f" "$1" || return 1; done; }
no_part() { ! ls "$1"/*.part >/dev/null 2>&1; }
requests() { wc -l < "$tmp/log" | tr -d ' '; }
fetch() {  # sums, dataset, dir; output in $tmp/out, exit status in $rc
    HC_FETCH_SUMS=$1 "$FETCH" "$2" "$3" --mirror "$URL" > "$tmp/out" 2>&1
    rc=$?
}
show() { sed 's/^/# /' "$tmp/out"; }

# 1. good files, then a second run that has nothing to do
fetch "$tmp/sha256" mnist "$tmp/d1"
if [ $rc -eq 0 ] && all_same "$tmp/d1" && no_part "$tmp/d1"; then
    pass "good files: exit 0, all four present and identical, no .part left"
else
    fail "good files (exit $rc)"; show
fi
before=$(requests)
fetch "$tmp/sha256" mnist "$tmp/d1"
check "second run: exit 0, nothing downloaded, every file verified in place" \
    sh -c "[ $rc -eq 0 ] && [ $(requests) = $before ] && grep -q 'present, checksum ok' '$tmp/out'"

# 2. a corrupt file: the served train labels do not match their (md5) checksum
sed 's/^[0-9a-f]\{32\}\(  train-labels\)/0123456789abcdef0123456789abcdef\1/' "$tmp/md5" > "$tmp/md5.bad"
fetch "$tmp/md5.bad" fashion-mnist "$tmp/d2"
if [ $rc -eq 1 ] &&
   grep -q "train-labels-idx1-ubyte.gz: checksum mismatch: expected 0123456789abcdef" "$tmp/out" &&
   [ ! -e "$tmp/d2/train-labels-idx1-ubyte.gz" ] && no_part "$tmp/d2" &&
   same train-images-idx3-ubyte.gz "$tmp/d2" && same t10k-labels-idx1-ubyte.gz "$tmp/d2"; then
    pass "corrupt file: exit 1, 'checksum mismatch' named, nothing under its name, the others fetched"
else
    fail "corrupt file (exit $rc)"; show
fi

# 3. a partial download left behind: resumed with one Range request
mkdir "$tmp/d3"
head -c 10000 "$tmp/www/train-labels-idx1-ubyte.gz" > "$tmp/d3/train-labels-idx1-ubyte.gz.part"
: > "$tmp/log"
fetch "$tmp/sha256" mnist "$tmp/d3"
if [ $rc -eq 0 ] && all_same "$tmp/d3" && no_part "$tmp/d3" &&
   grep -q "^GET train-labels-idx1-ubyte.gz bytes=10000-$" "$tmp/log" &&
   [ "$(grep -c '^GET train-labels' "$tmp/log")" = 1 ]; then
    pass "partial .part: resumed from byte 10000 (one Range request), verified, renamed"
else
    fail "partial .part not resumed (exit $rc)"; show; sed 's/^/# log: /' "$tmp/log"
fi

# 4. the transfer is cut in the middle: retried from where it stopped
echo train-images-idx3-ubyte.gz > "$tmp/ctl/cut"
half=$(( $(wc -c < "$tmp/www/train-images-idx3-ubyte.gz") / 2 ))
: > "$tmp/log"
fetch "$tmp/sha256" mnist "$tmp/d4"
if [ $rc -eq 0 ] && all_same "$tmp/d4" && no_part "$tmp/d4" &&
   grep -q "^GET train-images-idx3-ubyte.gz -$" "$tmp/log" &&
   grep -q "^GET train-images-idx3-ubyte.gz bytes=$half-$" "$tmp/log" &&
   grep -q "resuming from $half bytes" "$tmp/out"; then
    pass "transfer cut after $half bytes: retried with Range from there, verified"
else
    fail "cut transfer (exit $rc)"; show; sed 's/^/# log: /' "$tmp/log"
fi

# 5. a server that ignores Range: the partial file is dropped and fetched whole
echo t10k-images-idx3-ubyte.gz > "$tmp/ctl/norange"
mkdir "$tmp/d5"
head -c 5000 "$tmp/www/t10k-images-idx3-ubyte.gz" > "$tmp/d5/t10k-images-idx3-ubyte.gz.part"
fetch "$tmp/sha256" mnist "$tmp/d5"
if [ $rc -eq 0 ] && all_same "$tmp/d5" && no_part "$tmp/d5" && grep -q "cannot resume" "$tmp/out"; then
    pass "server without Range: starts that file over, verified"
else
    fail "server without Range (exit $rc)"; show
fi
rm -f "$tmp/ctl/norange"

# 6. a stale .part from something else: the resumed result fails, one fresh try succeeds
mkdir "$tmp/d6"
head -c 3000 /dev/urandom > "$tmp/d6/t10k-labels-idx1-ubyte.gz.part"
fetch "$tmp/sha256" mnist "$tmp/d6"
if [ $rc -eq 0 ] && all_same "$tmp/d6" && no_part "$tmp/d6" && grep -q "starting over" "$tmp/out"; then
    pass "stale .part: mismatch after resuming, fetched again from scratch, verified"
else
    fail "stale .part (exit $rc)"; show
fi

# 7. a .part that already holds the whole file (416 on resume): verified, renamed
mkdir "$tmp/d7"
cp "$tmp/www/train-labels-idx1-ubyte.gz" "$tmp/d7/train-labels-idx1-ubyte.gz.part"
fetch "$tmp/sha256" mnist "$tmp/d7"
check "complete .part (HTTP 416 on resume): verified and renamed" \
    sh -c "[ $rc -eq 0 ] && cmp -s '$tmp/www/train-labels-idx1-ubyte.gz' '$tmp/d7/train-labels-idx1-ubyte.gz'"

# 8. a file the mirror lacks: 404, a clear error, nothing under its name
mv "$tmp/www/t10k-labels-idx1-ubyte.gz" "$tmp/t10k-labels.away"
fetch "$tmp/sha256" mnist "$tmp/d8"
if [ $rc -eq 1 ] &&
   grep -q "t10k-labels-idx1-ubyte.gz: $URL/t10k-labels-idx1-ubyte.gz: HTTP 404" "$tmp/out" &&
   [ ! -e "$tmp/d8/t10k-labels-idx1-ubyte.gz" ] && no_part "$tmp/d8" &&
   same train-images-idx3-ubyte.gz "$tmp/d8"; then
    pass "missing file: exit 1, 'HTTP 404' with its URL, nothing under its name"
else
    fail "missing file (exit $rc)"; show
fi
mv "$tmp/t10k-labels.away" "$tmp/www/t10k-labels-idx1-ubyte.gz"

# 9. CIFAR-10: the tarball verified and unpacked into DIR itself
BINS="data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch"
mkdir -p "$tmp/c/cifar-10-batches-bin"
for f in $BINS; do head -c $((3073 * 3)) /dev/urandom > "$tmp/c/cifar-10-batches-bin/$f.bin"; done
echo airplane > "$tmp/c/cifar-10-batches-bin/batches.meta.txt"
tar -czf "$tmp/www/cifar-10-binary.tar.gz" -C "$tmp/c" cifar-10-batches-bin
(cd "$tmp/www" && md5sum cifar-10-binary.tar.gz) > "$tmp/cifar.md5"
fetch "$tmp/cifar.md5" cifar10 "$tmp/d9"
unpacked=1
for f in $BINS; do cmp -s "$tmp/c/cifar-10-batches-bin/$f.bin" "$tmp/d9/$f.bin" || unpacked=0; done
if [ $rc -eq 0 ] && [ $unpacked = 1 ] && no_part "$tmp/d9" && [ ! -d "$tmp/d9/cifar-10-batches-bin" ] &&
   ! ls -d "$tmp/d9"/.unpack* >/dev/null 2>&1; then
    pass "cifar10: tarball verified, the six batch files unpacked into DIR itself"
else
    fail "cifar10 (exit $rc)"; show
fi
before=$(requests)
fetch "$tmp/cifar.md5" cifar10 "$tmp/d9"
check "cifar10 second run: nothing downloaded or unpacked again" \
    sh -c "[ $rc -eq 0 ] && [ $(requests) = $before ] && grep -q 'already unpacked' '$tmp/out'"
echo "00000000000000000000000000000000  cifar-10-binary.tar.gz" > "$tmp/cifar.bad"
fetch "$tmp/cifar.bad" cifar10 "$tmp/d10"
check "cifar10 corrupt tarball: exit 1, no tarball, no batch file, no .part" \
    sh -c "[ $rc -eq 1 ] && [ ! -e '$tmp/d10/cifar-10-binary.tar.gz' ] && [ ! -e '$tmp/d10/data_batch_1.bin' ] && ! ls '$tmp/d10'/*.part >/dev/null 2>&1"

# 10. bad arguments
"$FETCH" imagenet "$tmp/x" > "$tmp/out" 2>&1; rc=$?
check "unknown data set: exit 2 with a message" \
    sh -c "[ $rc -eq 2 ] && grep -q \"unknown data set 'imagenet'\" '$tmp/out'"
"$FETCH" mnist > "$tmp/out" 2>&1; rc=$?
check "no folder: exit 2" [ $rc -eq 2 ]
"$FETCH" mnist "$tmp/x" --mirror > "$tmp/out" 2>&1; rc=$?
check "--mirror without a URL: exit 2" [ $rc -eq 2 ]

echo "1..$i"
