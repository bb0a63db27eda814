"""Loads a `pnpm train --save FILE.safetensors` model into PyTorch's nn.Sequential of the same
shape and prints its Fashion-MNIST test accuracy and a digest of its predictions (one class per
test image), to compare with tapegrad's (scripts/predictions.ts prints the same two lines).

Usage: /usr/bin/python3 scripts/torch-check.py FILE.safetensors [hidden sizes, default 256,256]
Needs PyTorch (Debian: python3-torch) and numpy; reads the file with a minimal safetensors reader
(no `safetensors` package) and the idx files of Debian's dataset-fashion-mnist.
"""
import gzip, hashlib, json, struct, sys
import numpy as np
import torch

path = sys.argv[1]
hidden = [int(h) for h in (sys.argv[2] if len(sys.argv) > 2 else "256,256").split(",")]
DTYPES = {"F32": np.float32, "I64": np.int64, "F64": np.float64, "I32": np.int32}
with open(path, "rb") as f:
    raw = f.read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
header.pop("__metadata__", None)
state = {}
for name, info in header.items():
    b, e = info["data_offsets"]
    arr = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    state[name] = torch.from_numpy(arr.copy())

layers, width = [], 784
for h in hidden:
    layers += [torch.nn.Linear(width, h), torch.nn.ReLU(), torch.nn.Dropout(0.2)]
    width = h
layers.append(torch.nn.Linear(width, 10))
model = torch.nn.Sequential(*layers)
model.load_state_dict(state, strict=True)
model.eval()

def idx(name):
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{name}", "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)

x = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
y = idx("t10k-labels-idx1-ubyte.gz")
with torch.no_grad():
    pred = model(x).argmax(1).numpy().astype(np.int32)
print(f"accuracy {(pred == y).mean():.4f}")
print("predictions sha256", hashlib.sha256(pred.tobytes()).hexdigest())
