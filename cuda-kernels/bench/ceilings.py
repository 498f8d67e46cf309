"""Measures this GPU's ceilings for the benchmark bounds: device-to-device copy bandwidth (bytes read + written
per second) and dense bf16 GEMM throughput, with PyTorch (present on the GPU machine). Prints one JSON line."""
import json, sys, torch

def timed(fn, reps):
    fn(); torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    best = float("inf")
    for _ in range(3):
        start.record()
        for _ in range(reps):
            fn()
        end.record(); torch.cuda.synchronize()
        best = min(best, start.elapsed_time(end) / 1000 / reps)
    return best

n = 1 << 30  # 1 GiB each way
src = torch.empty(n, dtype=torch.uint8, device="cuda"); dst = torch.empty_like(src)
copy_s = timed(lambda: dst.copy_(src), 20)
m = 8192
a = torch.randn(m, m, dtype=torch.bfloat16, device="cuda"); b = torch.randn(m, m, dtype=torch.bfloat16, device="cuda")
gemm_s = timed(lambda: a @ b, 20)
import transformers
report = {"copyBytesPerSecond": 2 * n / copy_s, "bf16FlopsPerSecond": 2 * m ** 3 / gemm_s,
          "gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "transformers": transformers.__version__,
          "hasDeepseekV2": hasattr(transformers, "DeepseekV2ForCausalLM")}
print(json.dumps(report))
