"""Writes hf_slow_cases.json: seeded adversarial texts and the WordPiece ids (space-separated)
that Hugging Face's slow (Python) BertTokenizer gives them, for bert-base-cased and bert-base-uncased, with and
without the NFC step that transformers >= 4.30 added to BasicTokenizer.

Run: python3 lib/text/testdata/make_hf_cases.py [DATA_DIR]  (default: $CAMTL_DATA, the folder
holding bert-base-cased/ and bert-base-uncased/)
Needs transformers 4.x (with slow tokenizers). If importing the package fails (for example
because huggingface_hub is missing), the BasicTokenizer and WordpieceTokenizer classes are
loaded from the installed source files alone.
"""
import ast, json, os, random, re, sys, types, unicodedata

DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CAMTL_DATA")
if not DATA:
    sys.exit("Cannot find the vocabularies: pass the data folder (holding bert-base-cased/ and "
             "bert-base-uncased/) as the argument, or set CAMTL_DATA to it")
OUT = os.path.join(os.path.dirname(__file__), "hf_slow_cases.json")


def load_hf():
    try:
        from transformers.models.bert import tokenization_bert as tb
        import transformers
        return tb.BasicTokenizer, tb.WordpieceTokenizer, tb.load_vocab, transformers.__version__
    except Exception:  # noqa: BLE001 - fall back to the source files
        import importlib.util
        spec = importlib.util.find_spec("transformers")
        root = os.path.dirname(spec.origin)
        version = re.search(r'__version__ = "([^"]+)"', open(os.path.join(root, "__init__.py")).read()).group(1)

        def grab(path, names):
            src = open(path).read()
            nodes = [n for n in ast.parse(src).body if getattr(n, "name", None) in names]
            return "\n\n".join(ast.get_source_segment(src, n) for n in nodes)

        ns = {"unicodedata": unicodedata, "collections": __import__("collections"), "Optional": object}
        code = grab(os.path.join(root, "tokenization_utils.py"), {"_is_whitespace", "_is_control", "_is_punctuation"})
        code += "\n\n" + grab(os.path.join(root, "models/bert/tokenization_bert.py"),
                              {"whitespace_tokenize", "BasicTokenizer", "WordpieceTokenizer", "load_vocab"})
        exec(code, ns)
        return ns["BasicTokenizer"], ns["WordpieceTokenizer"], ns["load_vocab"], version


BasicTokenizer, WordpieceTokenizer, load_vocab, VERSION = load_hf()

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    " \t\n\r\u00a0\u3000\u2028\u2029\u202f\u000b\u000c\u0085\u001c\u1680\u2000\u200a",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¿¡«»…—–‘’“”·•†‡§¶©®™°±×÷€£¥₹₣₱¢¤",
    "éèêëàáâäãåçñöøüúùûÿÉÈÊËÀÁÂÄÃÅÇÑÖØÜŒœßæÆİıŞşĞğ\u0301\u0300\u0308\u0327\u030a",
    "生活的真谛是博推一二三\u4e00\u9fff\u3400\uf900\ufa0b\U00020000\U0002a6d6ひらがなカタカナ한국어ｱ",
    "😂👍🤣❤️✨🧑\u200d🤝\u200d🧑👨🏻\u200d🌾\ufe0f\u200b\u200c\u200d\u00ad\u2060\ufeff",
    "\u0000\u0001\u0007\u001f\u007f\u0080\u009f\ufffd\ue000\U000f0000",
    "ΑΒΓΣσςΟΔΟΣабвгдЖЗИКЛМ₀₁²³ﬁﬂＡＢＣａｂｃ～！？，。、",
]
SPECIALS = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]
SPECIAL_RE = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def rand_text(rng):
    out = []
    for _ in range(rng.randint(0, 40)):
        if rng.random() < 0.03:
            out.append(rng.choice(SPECIALS + ["[cls]"]))
        else:
            out.append(rng.choice(rng.choice(POOLS)))
        if rng.random() < 0.25:
            out.append(" ")
    return "".join(out)


class NoNfc(types.ModuleType):
    """unicodedata without the NFC step, as in transformers 2.x (which CA-MTL used)."""

    def __getattr__(self, name):
        return getattr(unicodedata, name)

    def normalize(self, form, s):
        return s if form == "NFC" else unicodedata.normalize(form, s)


def encode_all(texts, vocab_dir, lower, nfc):
    globals_ = BasicTokenizer.tokenize.__globals__
    globals_["unicodedata"] = unicodedata if nfc else NoNfc("unicodedata")
    vocab = load_vocab(os.path.join(DATA, vocab_dir, "vocab.txt"))
    basic = BasicTokenizer(do_lower_case=lower, never_split=SPECIALS)
    wordpiece = WordpieceTokenizer(vocab, "[UNK]")
    result = []
    for text in texts:
        tokens = []
        # The slow tokenizer splits special tokens out of the text before basic tokenization.
        for i, part in enumerate(SPECIAL_RE.split(text)):
            if i % 2 == 1:
                tokens.append(part)
                continue
            for word in basic.tokenize(part):
                tokens.extend([word] if word in basic.never_split else wordpiece.tokenize(word))
        result.append(" ".join(str(vocab[t]) for t in tokens))
    globals_["unicodedata"] = unicodedata
    return result


def main():
    rng = random.Random(1234)
    texts = [rand_text(rng) for _ in range(400)]
    runs = []
    for vocab_dir, lower in [("bert-base-cased", False), ("bert-base-uncased", True)]:
        for nfc in [False, True]:
            runs.append({"vocab": vocab_dir, "doLowerCase": lower, "normalizeNfc": nfc,
                         "ids": encode_all(texts, vocab_dir, lower, nfc)})
    doc = {
        "generator": "lib/text/testdata/make_hf_cases.py (seed 1234)",
        "reference": f"transformers {VERSION} slow BertTokenizer (BasicTokenizer + WordpieceTokenizer), "
                     "special tokens split out first; normalizeNfc=false patches out the NFC step",
        "texts": texts,
        "runs": runs,
    }
    with open(OUT + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    print(f"wrote {OUT}: {len(texts)} texts x {len(runs)} runs")


if __name__ == "__main__":
    main()
