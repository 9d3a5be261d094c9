"""Step 2 of the reference-LM recipe: train the Llama-architecture model on the token streams of prepare-data.ts
and export it as a llama2.c (v0) checkpoint for scripts/convert-llama2c.ts.

    python3 scripts/train-lm/train.py [--data tmp/train-lm] [--steps 3400] ...

Deterministic for a given seed and thread count: batch b of step s is drawn from numpy's generator seeded with
(seed, s), so a run resumed from its checkpoint (--resume) sees the same batches as an uninterrupted one.
Writes DATA/run/{loss.jsonl, ckpt.pt, model.bin, train.json}. loss.jsonl holds the training loss (mean over the
steps since the last line) and the loss on the validation stream (the documents prepare-data.ts held out),
in nats per token."""
import argparse, json, math, os, platform, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ModelArgs, Transformer  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='tmp/train-lm')
    p.add_argument('--steps', type=int, default=3400)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--seq', type=int, default=256)
    p.add_argument('--dim', type=int, default=256)
    p.add_argument('--layers', type=int, default=6)
    p.add_argument('--heads', type=int, default=8)
    p.add_argument('--kv-heads', type=int, default=4)
    p.add_argument('--hidden', type=int, default=688)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--min-lr', type=float, default=1e-4)
    p.add_argument('--warmup', type=int, default=200)
    p.add_argument('--schedule', choices=['cosine', 'wsd'], default='cosine',
                   help='cosine: warm-up, then cosine from --lr to --min-lr over the remaining steps; wsd: warm-up, '
                   'constant --lr, then linear decay to --min-lr over the last --decay-steps (the constant phase does '
                   'not depend on --steps, so a run can be extended by resuming with a larger --steps before it decays)')
    p.add_argument('--decay-steps', type=int, default=0, help='wsd: length of the final decay')
    p.add_argument('--weight-decay', type=float, default=0.1)
    p.add_argument('--eval-every', type=int, default=200)
    p.add_argument('--eval-windows', type=int, default=128, help='validation windows per curve point (the final point uses all)')
    p.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    p.add_argument('--dtype', choices=['bf16', 'fp32'], default='bf16', help='autocast precision of the matmuls (weights stay fp32)')
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--resume', action='store_true')
    p.add_argument('--init', help='warm start: a model.safetensors (transformers Llama names, as the converter writes) of '
                   'the same shape; the optimizer starts afresh and the schedule (--warmup, --lr, --steps) is this run\'s')
    p.add_argument('--export-only', metavar='PATH', help='write the checkpoint of --run (ckpt.pt) as a llama2.c model.bin to PATH and stop')
    p.add_argument('--run', default='run', help='output folder inside --data (a warm-started stage keeps its own)')
    return p.parse_args()


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if a.schedule == 'wsd':
        start = a.steps - a.decay_steps
        return a.lr if step < start else a.lr + (a.min_lr - a.lr) * (step - start + 1) / a.decay_steps
    progress = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * progress))


def batch_at(step, data, a):
    rng = np.random.default_rng([a.seed, step])
    starts = rng.integers(0, len(data) - a.seq - 1, size=a.batch)
    x = np.stack([data[s:s + a.seq] for s in starts]).astype(np.int64)
    y = np.stack([data[s + 1:s + 1 + a.seq] for s in starts]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def read_safetensors(path):
    """{name: float32 tensor} from a safetensors file (F32 only; the format is a JSON header and raw little-endian data)."""
    with open(path, 'rb') as f:
        n = int.from_bytes(f.read(8), 'little')
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        if t['dtype'] != 'F32':
            raise SystemExit(f'{path}: {name} is {t["dtype"]}, expected F32')
        a, b = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype='<f4').copy()).view(t['shape'])
    return out


def unpermute_rotary(w, n_heads):
    """Inverse of transformers' permute() (halves layout → llama2.c's interleaved pairs), per head."""
    rows, cols = w.shape
    return w.view(n_heads, 2, rows // n_heads // 2, cols).transpose(1, 2).reshape(rows, cols)


def load_init(model, path):
    """Copies a converter-written model.safetensors into the training model; every tensor must match in shape."""
    t = read_safetensors(path)
    a = model.args
    sd = {'tok_embeddings.weight': t.pop('model.embed_tokens.weight'), 'norm.weight': t.pop('model.norm.weight')}
    for l in range(a.n_layers):
        p = f'model.layers.{l}'
        sd.update({
            f'layers.{l}.attention_norm.weight': t.pop(f'{p}.input_layernorm.weight'),
            f'layers.{l}.attention.wq.weight': unpermute_rotary(t.pop(f'{p}.self_attn.q_proj.weight'), a.n_heads),
            f'layers.{l}.attention.wk.weight': unpermute_rotary(t.pop(f'{p}.self_attn.k_proj.weight'), a.n_kv_heads),
            f'layers.{l}.attention.wv.weight': t.pop(f'{p}.self_attn.v_proj.weight'),
            f'layers.{l}.attention.wo.weight': t.pop(f'{p}.self_attn.o_proj.weight'),
            f'layers.{l}.ffn_norm.weight': t.pop(f'{p}.post_attention_layernorm.weight'),
            f'layers.{l}.feed_forward.w1.weight': t.pop(f'{p}.mlp.gate_proj.weight'),
            f'layers.{l}.feed_forward.w3.weight': t.pop(f'{p}.mlp.up_proj.weight'),
            f'layers.{l}.feed_forward.w2.weight': t.pop(f'{p}.mlp.down_proj.weight'),
        })
    t.pop('lm_head.weight', None)  # tied to the embedding
    if t:
        raise SystemExit(f'{path}: tensors this shape has no place for: {", ".join(sorted(t))}')
    own = model.state_dict()
    for k, v in sd.items():
        if own[k].shape != v.shape:
            raise SystemExit(f'{path}: {k} is {tuple(v.shape)}, this model\'s is {tuple(own[k].shape)} (pass the same shape flags)')
    model.load_state_dict({**own, **sd})


def autocast(a):
    return torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.dtype == 'bf16')


@torch.no_grad()
def val_loss(model, val, a, windows=None):
    """Mean NLL over consecutive, non-overlapping windows of the validation stream (each token predicted once)."""
    model.eval()
    n = (len(val) - 1) // a.seq
    if windows is not None:
        n = min(n, windows)
    total, count = 0.0, 0
    for i in range(0, n, a.batch):
        idx = range(i, min(n, i + a.batch))
        x = torch.from_numpy(np.stack([val[j * a.seq:(j + 1) * a.seq] for j in idx]).astype(np.int64))
        y = torch.from_numpy(np.stack([val[j * a.seq + 1:(j + 1) * a.seq + 1] for j in idx]).astype(np.int64))
        with autocast(a):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1), reduction='sum')
        total += loss.item()
        count += y.numel()
    model.train()
    return total / count


def export_llama2c(model, path):
    """llama2.c legacy (v0) checkpoint: 7 int32 header, then float32 weights in run.c's order."""
    a, sd = model.args, model.state_dict()
    L = range(a.n_layers)
    with open(path, 'wb') as f:
        f.write(np.array([a.dim, a.hidden_dim, a.n_layers, a.n_heads, a.n_kv_heads, a.vocab_size, a.max_seq_len], dtype='<i4').tobytes())
        def put(t):
            f.write(t.detach().float().contiguous().numpy().astype('<f4').tobytes())
        put(sd['tok_embeddings.weight'])
        for key in ['attention_norm.weight', 'attention.wq.weight', 'attention.wk.weight', 'attention.wv.weight', 'attention.wo.weight',
                    'ffn_norm.weight', 'feed_forward.w1.weight', 'feed_forward.w2.weight', 'feed_forward.w3.weight']:
            for l in L:
                put(sd[f'layers.{l}.{key}'])
        put(sd['norm.weight'])
        put(model.rope_cos)
        put(model.rope_sin)


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.data, 'data.json')))
    train = np.memmap(os.path.join(a.data, 'train.bin'), dtype='<u2', mode='r')
    val = np.memmap(os.path.join(a.data, 'val.bin'), dtype='<u2', mode='r')
    out = os.path.join(a.data, a.run)
    os.makedirs(out, exist_ok=True)
    margs = ModelArgs(dim=a.dim, n_layers=a.layers, n_heads=a.heads, n_kv_heads=a.kv_heads, vocab_size=meta['vocab_size'],
                      hidden_dim=a.hidden, max_seq_len=a.seq)
    model = Transformer(margs)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    step, elapsed = 0, 0.0
    ckpt_path = os.path.join(out, 'ckpt.pt')
    log_path = os.path.join(out, 'loss.jsonl')
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, elapsed = ck['step'], ck['elapsed']
        print(f'resumed at step {step}', file=sys.stderr)
    else:
        if os.path.exists(log_path):
            os.remove(log_path)
        if a.init:
            load_init(model, a.init)
            print(f'warm start from {a.init}', file=sys.stderr)
    if a.export_only:
        if not (a.resume and os.path.exists(ckpt_path)):
            raise SystemExit(f'--export-only needs --resume and a checkpoint at {ckpt_path}')
        export_llama2c(model, a.export_only)
        print(f'wrote {a.export_only} (step {step})', file=sys.stderr)
        return
    print(f'{model.n_params():,} parameters; {len(train):,} training tokens; {a.steps * a.batch * a.seq:,} tokens to see', file=sys.stderr)

    def log(row):
        with open(log_path, 'a') as f:
            f.write(json.dumps(row) + '\n')
        print(json.dumps(row), file=sys.stderr, flush=True)

    def save():
        torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'elapsed': elapsed}, ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)

    if step == 0:
        log({'step': 0, 'tokens': 0, 'val_loss': round(val_loss(model, val, a, a.eval_windows), 5), 'elapsed_s': 0})
    running, running_n = 0.0, 0
    t0 = time.time() - elapsed
    while step < a.steps:
        for g in opt.param_groups:
            g['lr'] = lr_at(step, a)
        x, y = batch_at(step, train, a)
        with autocast(a):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        running += loss.item()
        running_n += 1
        step += 1
        if step % a.eval_every == 0 or step == a.steps:
            elapsed = time.time() - t0
            final = step == a.steps
            v = val_loss(model, val, a, None if final else a.eval_windows)
            log({'step': step, 'tokens': step * a.batch * a.seq, 'train_loss': round(running / running_n, 5), 'val_loss': round(v, 5),
                 'lr': round(lr_at(step - 1, a), 7), 'elapsed_s': round(elapsed, 1), **({'val_all': True} if final else {})})
            running, running_n = 0.0, 0
            save()
    export_llama2c(model, os.path.join(out, 'model.bin'))
    json.dump({
        'args': vars(a), 'model': margs.to_dict(), 'parameters': model.n_params(),
        'tokens_seen': a.steps * a.batch * a.seq, 'train_tokens_available': int(len(train)),
        'epochs': a.steps * a.batch * a.seq / len(train), 'train_seconds': round(elapsed, 1),
        'final_val_loss': v, 'hardware': f'{cpu_name()}, {a.threads} threads, torch {torch.__version__}',
    }, open(os.path.join(out, 'train.json'), 'w'), indent=2)
    print(f'wrote {out}/model.bin', file=sys.stderr)


if __name__ == '__main__':
    main()
