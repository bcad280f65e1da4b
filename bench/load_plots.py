"""The served load benchmark's plots: latency against memories per user, and against offered load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def _subtitle(report: dict[str, Any]) -> str:
    load = report["load_average_before"]
    return f"{report['machine']['cpus']} cores, load average {load[0]:.1f} at the start; {report['command']}"


def _save(fig: Any, report: dict[str, Any], path: Path) -> None:
    """Write the figure with the run's machine and command along its foot."""
    fig.text(0.01, 0.01, _subtitle(report), fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sizes(report: dict[str, Any], path: Path) -> None:
    sizes = report["sizes"]
    if not sizes:
        return
    x = [s["memories_per_user"] for s in sizes]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    series = [
        ("search p50", lambda s: s["search"]["p50_ms"], "o-"),
        ("search p95", lambda s: s["search"]["p95_ms"], "o--"),
        ("search p95, writes arriving", lambda s: s["search_with_writes"]["p95_ms"], "s--"),
        ("chat TTFT p50 (one stream)", lambda s: s["chat_one_at_a_time"]["ttft"]["p50_ms"], "^-"),
        ("chat TTFT p95 (one stream)", lambda s: s["chat_one_at_a_time"]["ttft"]["p95_ms"], "^--"),
    ]
    for label, value, style in series:
        ax.plot(x, [value(s) for s in sizes], style, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("memories of the searching user (others hold a tenth as many again)")
    ax.set_ylabel("ms, round trip at the client")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Served search and chat latency by memories per user", fontsize=10)
    _save(fig, report, path)


def plot_loads(report: dict[str, Any], path: Path) -> None:
    runs = report["sustained"]
    if not runs:
        return
    offered = [r["offered_per_s"] for r in runs]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.plot(offered, [r["ttft"]["p50_ms"] for r in runs], "o-", label="TTFT p50")
    ax.plot(offered, [r["ttft"]["p95_ms"] for r in runs], "o--", label="TTFT p95")
    ax.set_xlabel("offered load, chat turns/s (open loop)")
    ax.set_ylabel("time to first token, ms")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    rate = ax.twinx()
    rate.plot(offered, [r["turns_per_s"] for r in runs], "s:", color="tab:green", label="achieved turns/s")
    rate.plot(offered, offered, ":", color="grey", linewidth=0.8, label="achieved = offered")
    rate.set_ylabel("achieved turns/s")
    rate.set_ylim(bottom=0)
    (ax_lines, ax_labels), (rate_lines, rate_labels) = ax.get_legend_handles_labels(), rate.get_legend_handles_labels()
    lines, labels = ax_lines + rate_lines, ax_labels + rate_labels
    burst = report["burst"]
    ax.set_title(
        f"Sustained chat load; a burst of {burst['turns']} streams: {burst['turns_per_s']} turns/s,"
        f" TTFT p95 {burst['ttft']['p95_ms']} ms",
        fontsize=10,
    )
    ax.legend(lines, labels, fontsize=8, loc="upper left")
    _save(fig, report, path)
