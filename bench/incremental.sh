#!/usr/bin/env bash
# Incremental check (docs/performance.md): `check` of a bundle of 1000+ effects built from
# ../shared/assets (copied into target/, never into the repo), run cold (empty decode cache),
# warm (every asset cached), and warm after 1 % of the assets changed. Three runs each.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/giftqa
work=$PWD/target/bench-incremental
rm -rf "$work"; mkdir -p "$work"
python3 - "$work/bundle" <<'PY'
import json, os, shutil, sys
out = sys.argv[1]
root = "../shared/assets"
kinds = {".svga": "svga", ".json": "lottie", ".lottie": "dotlottie", ".gif": "gif", ".webp": "webp"}
files = []
for d, _, names in sorted(os.walk(root)):
    if "rlottie" in d or "pag" in d or "vap" in d:
        continue
    for n in sorted(names):
        ext = os.path.splitext(n)[1]
        if ext in kinds and os.path.getsize(os.path.join(d, n)) < 4_000_000:
            files.append((os.path.join(d, n), kinds[ext], ext))
os.makedirs(os.path.join(out, "fx"))
assets = []
for i in range(1000):
    src, fmt, ext = files[i % len(files)]
    rel = f"fx/{i:04d}{ext}"
    shutil.copyfile(src, os.path.join(out, rel))
    assets.append({"id": f"fx-{i:04d}", "kind": "effect", "format": fmt,
                   "files": [{"path": rel, "size": 0, "blake3": "0" * 64}]})
m = {"format": "giftbundle/1", "bundle_id": "bench.incremental", "version": "1.0.0",
     "created": "2026-12-01T00:00:00Z", "expires": "2099-01-01T00:00:00Z",
     "min_client": "1.0.0", "assets": assets}
json.dump(m, open(os.path.join(out, "manifest.json"), "w"), indent=1)
print(f"{len(assets)} assets from {len(files)} distinct files")
PY
$bin pack "$work/bundle" > /dev/null
du -sh "$work/bundle"
run() { # label, cache dir
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" check "$work/bundle" --cache "$2" --now 2026-12-01T00:00:00Z --format json > /dev/null || true
  t1=$(date +%s.%N)
  python3 -c "print(f'$1: {($t1 - $t0):.3f} s')"
}
for k in 1 2 3; do rm -rf "$work/cache"; run "cold $k" "$work/cache"; done
for k in 1 2 3; do run "warm $k" "$work/cache"; done
# 1 % changed: ten assets get another file of their format.
python3 - "$work/bundle" <<'PY'
import json, os, shutil, sys
b = sys.argv[1]
m = json.load(open(os.path.join(b, "manifest.json")))
svga = [a for a in m["assets"] if a["format"] == "svga"]
for a, other in zip(svga[:10], svga[10:20][::-1]):
    if a["files"][0]["blake3"] == other["files"][0]["blake3"]:
        other = svga[-1]
    shutil.copyfile(os.path.join(b, other["files"][0]["path"]), os.path.join(b, a["files"][0]["path"]))
m["version"] = "1.0.1"
json.dump(m, open(os.path.join(b, "manifest.json"), "w"), indent=1)
PY
$bin pack "$work/bundle" > /dev/null
for k in 1 2 3; do rm -rf "$work/cache2"; cp -r "$work/cache" "$work/cache2"; run "1% changed $k" "$work/cache2"; done
