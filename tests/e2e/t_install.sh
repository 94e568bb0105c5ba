# make install DESTDIR=... lays out corrald, corralctl, libcorral (static,
# shared with its soname), corral.h and corral.pc; pkg-config, pointed at
# the staged tree, builds a small program against the installed libcorral,
# and it runs; the completions of corralctl for bash and zsh are there.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

D="$T/stage"
rel=${BUILD#"$TOP"/}
make -C "$TOP" --no-print-directory -s install DESTDIR="$D" PREFIX=/usr/local \
    BUILD="$rel" SAN="${SAN:-}" >make.out 2>&1 || { cat make.out; fail "make install"; }
for f in bin/corrald bin/corralctl lib/libcorral.a lib/libcorral.so.0 \
    lib/libcorral.so include/corral.h lib/pkgconfig/corral.pc \
    share/corral/examples/fleet.ini share/corral/examples/corrald.service share/man/man1/corralctl.1 \
    share/man/man5/corral.ini.5 share/man/man8/corrald.8 \
    share/bash-completion/completions/corralctl share/zsh/site-functions/_corralctl; do
	[ -e "$D/usr/local/$f" ] || fail "not installed: $f"
done
readelf -d "$D/usr/local/lib/libcorral.so.0" | grep -q 'SONAME.*\[libcorral.so.0\]' ||
    fail "libcorral.so.0 has no soname libcorral.so.0"

cat >prog.c <<'EOF2'
#include <stdio.h>
#include <sys/wait.h>
#include <corral.h>

int
main(void)
{
	struct corral_backoff b = CORRAL_BACKOFF_DEFAULT;
	struct corral_exit_policy p;
	struct corral_exit_facts f = { 0 };

	corral_exit_policy_default(&p);
	f.status = 75 << 8; /* exited with 75 */
	printf("%s %s %llu %llu\n", CORRAL_VERSION,
	    corral_exit_class_name(corral_classify(&p, &f)),
	    (unsigned long long)corral_backoff_base(&b, 3),
	    (unsigned long long)corral_backoff_delay(&b, 0, 0.5));
	return 0;
}
EOF2
export PKG_CONFIG_PATH="$D/usr/local/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
flags=$(pkg-config --cflags --libs corral) || fail "pkg-config cannot find corral"
# A sanitized libcorral needs its program linked with the sanitizers.
san=${SAN:+-fsanitize=address,undefined}
echo "pkg-config: $flags"
cc -std=c11 -Wall -Werror $san prog.c $flags -o prog-shared || fail "build against the shared library"
cc -std=c11 -Wall -Werror $san prog.c $(pkg-config --cflags corral) \
    "$D/usr/local/lib/libcorral.a" $(pkg-config --static --libs-only-l corral | sed 's/-lcorral//') \
    -o prog-static || fail "build against the static library"
readelf -d prog-shared | grep -q 'NEEDED.*\[libcorral.so.0\]' || fail "prog does not need libcorral.so.0"
want="$(sed -n 's/^#define CORRAL_VERSION "\(.*\)"/\1/p' "$TOP/worker-sdk/corral.h") transient 16000 2000"
assert_eq "$(LD_LIBRARY_PATH="$D/usr/local/lib" ./prog-shared)" "$want" "shared program output"
assert_eq "$(./prog-static)" "$want" "static program output"
"$D/usr/local/bin/corrald" --check "$D/usr/local/share/corral/examples/fleet.ini" >/dev/null 2>&1 ||
    fail "installed corrald cannot check the installed example"
grep -qx 'ExecStart=/usr/local/bin/corrald -c /etc/corral/fleet.ini' \
    "$D/usr/local/share/corral/examples/corrald.service" || fail "unit's ExecStart"
