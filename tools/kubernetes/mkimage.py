# Write a docker-archive (docker save format) tarball with one layer from a folder; used by cluster.sh for
# the pause image (and a busybox image) that containerd imports: no image can be pulled on this machine.
# usage: mkimage.py OUT.tar NAME:TAG ROOTFS_DIR '["entrypoint",...]'
import hashlib
import io
import json
import os
import sys
import tarfile

out, tag, rootfs, entry = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for root, dirs, files in os.walk(rootfs):
        dirs.sort()
        for n in sorted(dirs) + sorted(files):
            p = os.path.join(root, n)
            t.add(p, arcname=os.path.relpath(p, rootfs), recursive=False)
layer = buf.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
cfg = {"architecture": "amd64", "os": "linux",
       "config": {"Entrypoint": entry, "Env": ["PATH=/bin:/usr/bin:/sbin"], "WorkingDir": "/"},
       "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "history": [{"created_by": "mkimage.py"}]}
cfgb = json.dumps(cfg).encode()
cfgname = hashlib.sha256(cfgb).hexdigest() + ".json"
manifest = [{"Config": cfgname, "RepoTags": [tag], "Layers": ["layer0/layer.tar"]}]
with tarfile.open(out, "w") as t:
    for name, data in [(cfgname, cfgb), ("layer0/layer.tar", layer), ("manifest.json", json.dumps(manifest).encode())]:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
print(out, tag, diff_id)
