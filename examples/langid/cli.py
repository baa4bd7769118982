"""python -m examples.langid train | evaluate | predict TEXT | compare   (--help on each)."""

import argparse
import os
import sys

import numpy as np

from . import data, features
from .backend import make_ops
from .model import Network, initial_weights
from .train import (Config, Hyper, build_dataset, confusion_matrix, format_confusion, load_model,
                    predict_rows, save_model, train_epochs)

DEFAULT_MODEL = "langid-model.npz"


def _add_device(parser):
    parser.add_argument("--device", default=None,
                        help="leakycl device spec: cpu, opencl, opencl:P:D, gpu, auto "
                             "(default: $LEAKYCL_DEVICE, else auto)")


def _add_data(parser):
    parser.add_argument("--languages", default=",".join(data.ALL_LANGUAGES),
                        help="comma-separated ISO 639-1 codes (default: all twelve)")
    parser.add_argument("--hash-bits", type=int, default=Config.hash_bits,
                        help="2**bits hashed feature columns (default %(default)s)")
    parser.add_argument("--max-per-language", type=int, default=Config.max_per_language,
                        help="entries kept per language before the split (default %(default)s)")
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--epochs", type=int, default=Hyper.epochs)
    parser.add_argument("--batch-size", type=int, default=Hyper.batch_size)
    parser.add_argument("--lr", type=float, default=Hyper.lr)
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bars")


def _parser():
    parser = argparse.ArgumentParser(prog="python -m examples.langid", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train on the fortune corpus and save the model")
    _add_device(train)
    _add_data(train)
    train.add_argument("--model", default=DEFAULT_MODEL, help="where to save (default %(default)s)")
    evaluate = sub.add_parser("evaluate", help="accuracy and confusion table on the test split")
    _add_device(evaluate)
    evaluate.add_argument("--model", default=DEFAULT_MODEL)
    evaluate.add_argument("--split", choices=("test", "validation"), default="test")
    predict = sub.add_parser("predict", help="the language of a text")
    _add_device(predict)
    predict.add_argument("--model", default=DEFAULT_MODEL)
    predict.add_argument("text")
    compare = sub.add_parser("compare", help="train on several devices and in PyTorch from the "
                                             "same weights; compare losses and time per epoch")
    _add_data(compare)
    compare.add_argument("--devices", default="cpu,opencl", help="leakycl device specs")
    compare.add_argument("--no-torch", action="store_true", help="leave out the PyTorch twin")
    compare.add_argument("--tolerance", type=float, default=1e-3,
                         help="largest allowed per-epoch loss difference (default %(default)s)")
    compare.add_argument("--save", metavar="DIR", default=None,
                         help="also save each leakycl run's model as DIR/langid-<run>.npz")
    return parser


def _config_and_hyper(args):
    languages = tuple(sorted(code.strip() for code in args.languages.split(",") if code.strip()))
    unknown = [code for code in languages if code not in data.ALL_LANGUAGES]
    if unknown:
        raise SystemExit(f"unknown language codes {unknown}; known: {', '.join(data.ALL_LANGUAGES)}")
    return (Config(languages, args.hash_bits, args.max_per_language, args.seed),
            Hyper(args.epochs, args.batch_size, args.lr))


def _describe(dataset):
    counts = np.bincount(dataset.train_labels, minlength=len(dataset.languages))
    per_lang = " ".join(f"{lang}={n}" for lang, n in zip(dataset.languages, counts))
    return (f"data: train={len(dataset.train)} validation={len(dataset.validation)} "
            f"test={len(dataset.test)} features=2^{dataset.config.hash_bits}; train {per_lang}")


def cmd_train(args):
    config, hyper = _config_and_hyper(args)
    dataset = build_dataset(config)
    print(_describe(dataset))
    ops = make_ops(args.device)
    print(f"device: {ops.device_name} ({ops.name})")
    net, history = train_epochs(ops, dataset, hyper, progress=not args.no_progress)
    save_model(args.model, net, config, hyper, history)
    test_accuracy = float(np.mean(predict_rows(net, dataset.test) == dataset.test_labels))
    print(f"saved {args.model}; test accuracy {test_accuracy:.4f}")
    return 0


def cmd_evaluate(args):
    config, weights, _ = load_model(args.model)
    dataset = build_dataset(config)
    rows, labels = ((dataset.test, dataset.test_labels) if args.split == "test"
                    else (dataset.validation, dataset.validation_labels))
    ops = make_ops(args.device)
    predicted = predict_rows(Network(ops, weights), rows)
    matrix = confusion_matrix(labels, predicted, len(dataset.languages))
    print(f"device: {ops.device_name} ({ops.name}); split: {args.split}")
    print(format_confusion(matrix, dataset.languages))
    accuracy = float(np.trace(matrix) / max(1, matrix.sum()))
    print(f"accuracy={accuracy:.4f} languages={len(dataset.languages)} "
          f"{args.split}_samples={len(labels)}")
    return 0


def cmd_predict(args):
    config, weights, _ = load_model(args.model)
    columns, values = features.hashed_row(data.normalise(args.text), config.hash_bits)
    x = np.zeros((1, 1 << config.hash_bits), dtype=np.float32)
    x[0, columns] = values
    logits = Network(make_ops(args.device), weights).predict_logits(x)[0].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    for i in order[1:3][::-1]:
        lang = config.languages[i]
        print(f"  {lang} {data.LANGUAGE_NAMES[lang]} {probs[i]:.4f}")
    best = config.languages[order[0]]
    print(f"{best} {data.LANGUAGE_NAMES[best]} {probs[order[0]]:.4f}")
    return 0


def cmd_compare(args):
    config, hyper = _config_and_hyper(args)
    dataset = build_dataset(config)
    print(_describe(dataset))
    weights = initial_weights(dataset.train.width, len(dataset.languages), config.seed)
    runs = {}
    for spec in [s.strip() for s in args.devices.split(",") if s.strip()]:
        ops = make_ops(spec)
        print(f"device {spec}: {ops.device_name} ({ops.name})")
        net, runs[ops.name] = train_epochs(ops, dataset, hyper, weights,
                                           progress=not args.no_progress)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            path = os.path.join(args.save, f"langid-{ops.name}.npz")
            save_model(path, net, config, hyper, runs[ops.name])
            print(f"saved {path}")
    if not args.no_torch:
        from .torch_twin import train_torch
        runs["torch"] = train_torch(dataset, hyper, weights, progress=not args.no_progress)[1]
    return _report_comparison(runs, args.tolerance)


def _report_comparison(runs, tolerance):
    names = list(runs)
    print("epoch " + "".join(f"{n + ' loss':>24}" for n in names))
    for e in range(len(runs[names[0]])):
        print(f"{e + 1:>5} " + "".join(f"{runs[n][e]['loss']:>24.6f}" for n in names))
    print("seconds per epoch (mean): " + ", ".join(
        f"{n}={np.mean([r['seconds'] for r in runs[n]]):.2f}" for n in names))
    print("validation accuracy (last epoch): " + ", ".join(
        f"{n}={runs[n][-1]['val_accuracy']:.4f}" for n in names))
    worst = 0.0
    for a in names:
        for b in names[names.index(a) + 1:]:
            diff = max(abs(x["loss"] - y["loss"]) for x, y in zip(runs[a], runs[b]))
            worst = max(worst, diff)
            print(f"max |loss difference| {a} vs {b}: {diff:.2e}")
    verdict = "within" if worst <= tolerance else "NOT within"
    print(f"largest per-epoch loss difference {worst:.2e}: {verdict} {tolerance:g}")
    return 0 if worst <= tolerance else 1


def main(argv=None):
    args = _parser().parse_args(argv)
    command = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
               "compare": cmd_compare}[args.command]
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
