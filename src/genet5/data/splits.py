"""What to bake and how to split it: genome entries from a manifest, a directory or FASTA files.

An *entry* is one genome (+ annotation) as the raw collection lists it. Entries are grouped
into *species groups* and train/validation is decided per group, never per window: the six
Mycoplasma gallisepticum strains, or a 1% sample and a whole chromosome of the same fly,
share sequence, so splitting them apart would leak the validation set into training.

Group rules (``--group-by``):

- ``species`` (default): the first two words of the species name (the binomial), so
  "Mycoplasma gallisepticum strain NC_004829" and "... NC_017502" are one group, and
  "Enterobacteria phage NC_000902" joins the other "Enterobacteria phage" genomes.
- ``genome``: every entry is its own group (only for collections without near-duplicates).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from genet5.genome.models import GenomeFormatError

GROUP_RULES = ("species", "genome")
_GENOME_NAMES = ("genome.fa", "genome.fa.gz", "genome.fasta", "genome.fasta.gz", "genome.fna", "genome.fna.gz")
# FASTA names that say nothing about the genome (NCBI and this project's layout)
_GENERIC_STEMS = {"genome", "genomic", "sequence", "sequences", "assembly", "contigs", "scaffolds"}
_ANNOT_SUFFIXES = (".gff3", ".gff", ".gtf", ".gbff", ".gbk", ".gb")


@dataclass(frozen=True)
class Entry:
    key: str  # unique, file-name safe: the manifest path with '/' -> '__'
    path: str  # as the manifest wrote it (or relative to the raw directory)
    species: str
    taxon: str
    genome: Path
    annotation: Path | None
    genetic_code: int | None  # None: take the annotation's transl_table, else 1

    def group(self, rule: str = "species") -> str:
        return group_key(self, rule)


def group_key(entry: Entry, rule: str = "species") -> str:
    if rule == "genome":
        return entry.key
    if rule == "species":
        # "Caenorhabditis elegans, first 1% ..." -> "Caenorhabditis elegans"
        words = re.sub(r"[_\s]+", " ", entry.species).strip().split(" ")
        return " ".join(w.strip(",;:()") for w in words[:2])
    raise ValueError(f"unknown group rule {rule!r} (choose from {', '.join(GROUP_RULES)})")


def _key(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", path.strip("/")) or "genome"


def _find_annotation(folder: Path) -> Path | None:
    for p in sorted(folder.iterdir()):
        name = p.name[:-3] if p.name.endswith(".gz") else p.name
        if name.startswith("annotation") and name.endswith(_ANNOT_SUFFIXES):
            return p
    return None


def read_manifest(path: Path) -> list[Entry]:
    """Entries of a manifest.tsv (columns path, species, taxon, genetic_code, annotation, ...)."""
    root = path.parent
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    if not rows:
        raise GenomeFormatError(path, 1, "empty manifest")
    header = rows[0]
    for col in ("path", "species"):
        if col not in header:
            raise GenomeFormatError(path, 1, f"manifest needs a '{col}' column (found: {', '.join(header)})")
    col = {name: i for i, name in enumerate(header)}
    entries = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if len(row) < len(header):
            raise GenomeFormatError(path, lineno, f"expected {len(header)} columns, found {len(row)}")
        rel = row[col["path"]]
        folder = root / rel
        genome = next((folder / n for n in _GENOME_NAMES if (folder / n).is_file()), None)
        if genome is None:
            raise GenomeFormatError(path, lineno, f"no genome.fa[.gz] in {folder}")
        annot = None
        if "annotation" in col and row[col["annotation"]]:
            annot = folder / row[col["annotation"]]
            if not annot.is_file():
                raise GenomeFormatError(path, lineno, f"annotation file {annot} not found")
        else:
            annot = _find_annotation(folder)
        code = None
        if "genetic_code" in col and row[col["genetic_code"]].strip():
            try:
                code = int(row[col["genetic_code"]])
            except ValueError:
                raise GenomeFormatError(path, lineno, f"genetic_code {row[col['genetic_code']]!r} is not a number") from None
        taxon = row[col["taxon"]] if "taxon" in col else ""
        entries.append(Entry(_key(rel), rel, row[col["species"]], taxon, genome, annot, code))
    return entries


def read_directory(root: Path) -> list[Entry]:
    """Species folders under ``root`` (any depth) holding genome.fa[.gz] (+ annotation.*).

    A manifest.tsv directly in ``root`` takes precedence (it carries species names and genetic
    codes). Otherwise the species name is the folder name with '_' as spaces.
    """
    if (root / "manifest.tsv").is_file():
        return read_manifest(root / "manifest.tsv")
    entries = []
    for genome in sorted(p for n in _GENOME_NAMES for p in root.rglob(n)):
        folder = genome.parent
        rel = folder.relative_to(root).as_posix() if folder != root else folder.name
        taxon = folder.parent.name if folder.parent != root else ""
        entries.append(Entry(_key(rel), rel, folder.name.replace("_", " "), taxon, genome, _find_annotation(folder), None))
    if not entries:
        raise GenomeFormatError(root, None, "no species folders with genome.fa[.gz] found")
    return entries


def discover(raw: Path) -> list[Entry]:
    """Entries of a manifest.tsv, a directory of species folders, or one FASTA file."""
    if raw.is_dir():
        entries = read_directory(raw)
    elif raw.name.endswith(".tsv"):
        entries = read_manifest(raw)
    elif raw.is_file():  # a bare FASTA (LM corpora): species from the file name
        stem = re.sub(r"\.(fa|fasta|fna)(\.gz)?$", "", raw.name)
        if stem.lower() in _GENERIC_STEMS and raw.resolve().parent.name:
            stem = raw.resolve().parent.name  # Species_dir/genome.fa.gz: the folder names the genome
        entries = [Entry(_key(stem), str(raw), stem.replace("_", " "), "", raw, None, None)]
    else:
        raise GenomeFormatError(raw, None, "no such file or directory")
    keys = [e.key for e in entries]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise GenomeFormatError(raw, None, f"duplicate genome entries: {', '.join(sorted(dup))}")
    return entries


def _norm(s: str) -> str:
    return re.sub(r"[_\s/]+", " ", s).strip().lower()


def resolve_holdout(entries: list[Entry], names: list[str], rule: str = "species") -> set[str]:
    """Group keys held out for validation. A name may be a group ("Vibrio cholerae"), a full
    species name, a manifest path or its last folder; naming one member holds out its whole
    group. An unknown name is an error (a typo must not silently train on the test species)."""
    held: set[str] = set()
    for name in names:
        n = _norm(name)
        hit = {
            e.group(rule)
            for e in entries
            if n in (_norm(e.group(rule)), _norm(e.species), _norm(e.path), _norm(Path(e.path).name), _norm(e.key))
        }
        if not hit:
            groups = sorted({e.group(rule) for e in entries})
            raise ValueError(f"--holdout {name!r} matches no species; groups are: {'; '.join(groups)}")
        held |= hit
    return held


SPLIT_NAMES = ("train", "validation")


def read_splits(path: Path) -> dict[str, str]:
    """A splits.tsv (columns `path` and `split`, split `train` or `validation`): path -> split."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    if not rows or "path" not in rows[0] or "split" not in rows[0]:
        raise GenomeFormatError(path, 1, "a splits file needs 'path' and 'split' columns")
    col = {name: i for i, name in enumerate(rows[0])}
    out: dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if len(row) <= max(col["path"], col["split"]):
            raise GenomeFormatError(path, lineno, f"expected {len(rows[0])} columns, found {len(row)}")
        split = row[col["split"]].strip()
        if split not in SPLIT_NAMES:
            raise GenomeFormatError(path, lineno, f"split {split!r} is not one of {', '.join(SPLIT_NAMES)}")
        out[row[col["path"]].strip().strip("/")] = split
    return out


def holdout_from_splits(entries: list[Entry], splits_path: Path, rule: str = "species") -> list[str]:
    """`--splits FILE`: the entries a splits.tsv marks `validation`, as names for resolve_holdout,
    so that every model's held-out genomes come from one file. An entry is matched by its manifest
    path, or by the last folder of a row's path (species directories and genome.fa files given
    one by one). An entry the file does not list is an error, and so is a group (under `rule`)
    with entries on both sides: holding out one member holds out its whole group."""
    splits = read_splits(splits_path)
    by_folder = {p.rsplit("/", 1)[-1]: s for p, s in splits.items()}
    side: dict[str, str] = {}
    for e in entries:
        names = (e.path.strip("/"), Path(e.path).name, e.genome.parent.name)
        split = splits.get(names[0]) or next((by_folder[n] for n in names if n in by_folder), None)
        if split is None:
            raise ValueError(f"{e.path}: not listed in {splits_path}")
        side[e.key] = split
    groups: dict[str, set[str]] = {}
    for e in entries:
        groups.setdefault(e.group(rule), set()).add(side[e.key])
    mixed = sorted(g for g, s in groups.items() if len(s) > 1)
    if mixed:
        raise ValueError(f"{splits_path} puts members of {'; '.join(mixed)} in both train and validation; "
                         "bake them with --group-by genome, or leave one side out of the inputs")  # fmt: skip
    return [e.path for e in entries if side[e.key] == "validation"]
