# What an [include] pattern or an env_file names is read only when it is a
# regular file: a FIFO, a device (a symbolic link to /dev/zero, which would
# never end) or a directory is refused at once, naming it, and --check does
# not hang; an include cycle (a file that includes itself, or the fleet
# file) is refused, not followed.
. "$(dirname "$0")/lib.sh"

mkdir "$T/conf.d"
mkfifo "$T/conf.d/10-fifo.ini"
ln -s /dev/zero "$T/conf.d/20-zero.ini"
mkdir "$T/conf.d/30-dir.ini"
printf '[include]\nfiles = %s/conf.d/40-self.ini %s/corral.ini\n' "$T" "$T" >"$T/conf.d/40-self.ini"
mkfifo "$T/fifo.env"
ln -s /dev/zero "$T/zero.env"
conf <<EOF2
[include]
files = conf.d/*.ini

[agent:a]
command = $TW sleep
env_file = $T/fifo.env $T/zero.env
EOF2
timeout 10 "$CORRALD" --check "$T/corral.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check with special files"
for want in \
    "files: $T/conf.d/10-fifo.ini: not a regular file" \
    "files: $T/conf.d/20-zero.ini: not a regular file" \
    "files: $T/conf.d/30-dir.ini: not a regular file" \
    "files: $T/conf.d/40-self.ini is included already" \
    "files: $T/corral.ini is the fleet file itself" \
    "env_file: $T/fifo.env: not a regular file" \
    "env_file: $T/zero.env: not a regular file"; do
	grep -Fq "$want" "$T/err" || fail "not said: $want
$(cat "$T/err")"
done
echo ok
