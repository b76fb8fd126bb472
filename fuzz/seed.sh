#!/usr/bin/env bash
# Seeds every fuzz target's corpus (fuzz/corpus/TARGET, not committed) from ../shared/assets
# and the demo bundle. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
A=../../shared/assets
C=corpus
mkdir -p $C/{manifest,archive,svga,lottie,dotlottie,animated,vap,documents}
copy() { # copy FILE DIR [PREFIX_BYTE]: into the corpus under a name from its content
  local f=$1 d=$2 name
  name=$(sha1sum "$f" | cut -c1-16)
  if [ $# -ge 3 ]; then
    { printf "\\x$3"; cat "$f"; } > "$d/$name"
  else
    cp "$f" "$d/$name"
  fi
}
copy ../assets/demo-bundle/manifest.json $C/manifest
for f in $(find $A -name '*.json' -size -32k | head -40); do copy "$f" $C/manifest; done
for f in $(find $A/svga -name '*.svga' -size -512k); do copy "$f" $C/svga; done
for f in $(find $A/lottie -name '*.json' -size -256k | head -200); do copy "$f" $C/lottie; done
for f in $(find $A -name '*.lottie' -size -512k); do copy "$f" $C/dotlottie; copy "$f" $C/archive; done
for f in $(find $A -name '*.svga' -size -256k); do
  if head -c 2 "$f" | grep -q PK; then copy "$f" $C/archive; fi
done
# Text animators and changing text: no sample has them; one is added to dotlottie-rs's text.json.
python3 - "$A/lottie/dotlottie-rs/assets/animations/lottie/text.json" "$C/lottie/text-animators" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["layers"][0]["t"]
t["a"] = [{"a": {"o": {"a": 0, "k": 0}, "p": {"a": 0, "k": [0, -40]}, "r": {"a": 0, "k": 30}},
           "s": {"t": 0, "r": 1, "b": 1, "sh": 4, "o": {"a": 0, "k": 0},
                 "s": {"a": 1, "k": [{"t": 0, "s": [0]}, {"t": 60, "s": [100]}]}}}]
first = t["d"]["k"][0]
t["d"]["k"].append({"t": 30, "s": dict(first["s"], t="Hi")})
json.dump(d, open(sys.argv[2], "w"))
PY
python3 - "$C/archive/demo" <<'PY'
import os, sys, zipfile
root = "../assets/demo-bundle"
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            if os.path.getsize(p) < 200_000:
                z.write(p, os.path.relpath(p, root))
PY
for f in $(find $A/animated-image -name '*.png' -size -128k | head -60); do copy "$f" $C/animated 00; done
for f in $(find $A -name '*.gif' -size -256k | head -40); do copy "$f" $C/animated 01; done
for f in $(find $A -name '*.webp' -size -256k | head -40); do copy "$f" $C/animated 02; done
# VAP: the two 20-frame files whole, the others cut after their moov and first samples.
for f in $A/vap/Android/mask_blur_demo.mp4 $A/vap/Android/mask_trunk_demo.mp4; do copy "$f" $C/vap; done
for f in $A/vap/Android/demo.mp4 $A/vap/Android/special_size_750.mp4 $A/vap/web/demo.mp4; do
  head -c 150000 "$f" > "$C/vap/cut-$(basename "$(dirname "$f")")-$(basename "$f")"
done
copy ../assets/demo-keys.json $C/documents 07
copy ../assets/demo-fleet.json $C/documents 03
printf '\x00{"format":"giftkill/1","bundle_id":"fuzz.bundle","seq":1,"issued":"2026-11-01T00:00:00Z","expires":"2027-11-01T00:00:00Z","kill":["a"]}' > $C/documents/kill
printf '\x01{"format":"gifthistory/1","bundles":{"fuzz.bundle":{"versions":["1.0.0"],"kill_seq":1}}}' > $C/documents/history
printf '\x04{"tiers":[{"name":"low","viewport_px":[540,960],"max_texture_px":2048,"texture_budget_mib":96,"target_fps":30,"decode_threads":1,"first_frame_budget_ms":300}]}' > $C/documents/tiers
printf '\x05{"name":"combo","duration_ms":6000,"max_concurrent":3,"queue_limit":50,"events":[{"at_ms":0,"asset":"a","repeat":10,"every_ms":150}]}' > $C/documents/scenario
printf '\x06stage,region,sessions,download_success_rate\ncanary,SG,6000,0.999\n' > $C/documents/telemetry
echo "corpus: $(find $C -type f | wc -l) files"
