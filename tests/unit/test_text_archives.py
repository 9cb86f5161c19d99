"""Reading a text model's archive: what is accepted, and every hostile shape refused before anything is used."""

import gzip
import io
import os
import tarfile
import zipfile

import pytest

from shared.registry.text_archives import ArchiveLimits, ArchiveRefusedError, read_text_archive
from tests.support.text_models import files, tar_gz, tar_gz_entries, zip_archive

Entry = tuple[tarfile.TarInfo, bytes | None]
DEFAULT = ArchiveLimits()
SMALL = ArchiveLimits(
    total_bytes=64 * 1024,
    graph_bytes=32 * 1024,
    tokenizer_bytes=16 * 1024,
    json_bytes=4 * 1024,
    other_bytes=4 * 1024,
    max_ratio=20,
    ratio_after=8 * 1024,
    max_members=6,
)


def _entry(name: str, kind: bytes = tarfile.REGTYPE, content: bytes | None = b"x", link: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(content) if content is not None and kind == tarfile.REGTYPE else 0
    return info, content if kind == tarfile.REGTYPE else None


def _refused(data: bytes, needle: str, limits: ArchiveLimits = DEFAULT, task: str = "feature-extraction") -> None:
    with pytest.raises(ArchiveRefusedError) as refused:
        read_text_archive(data, task, limits)  # type: ignore[arg-type]
    assert needle in str(refused.value)


@pytest.mark.parametrize("pack", [tar_gz, zip_archive])
def test_a_flat_export_is_read_whole_from_either_format(pack) -> None:  # type: ignore[no-untyped-def]
    members = files("text-classification")

    archive = read_text_archive(pack(members), "text-classification")

    assert archive.format == ("tar.gz" if pack is tar_gz else "zip")
    assert archive.graph == members["model.onnx"]
    assert archive.tokenizer == members["tokenizer.json"].decode()
    assert archive.config is not None
    assert archive.config["id2label"]["0"] == "negative"
    assert archive.tokenizer_config == {"model_max_length": 32, "do_lower_case": True}


def test_tar_c_dir_dot_layout_with_its_top_folder_is_accepted() -> None:
    """``tar czf m.tar.gz -C export .`` writes ``./`` and ``./model.onnx``."""
    members = files()
    folder = tarfile.TarInfo(".")
    folder.type = tarfile.DIRTYPE
    entries = [(folder, None), *(_entry("./" + name, content=content) for name, content in members.items())]

    archive = read_text_archive(tar_gz_entries(entries), "feature-extraction")

    assert archive.graph == members["model.onnx"]


def test_a_single_onnx_file_of_another_name_is_the_graph() -> None:
    members = files()
    members["encoder.onnx"] = members.pop("model.onnx")

    assert read_text_archive(tar_gz(members), "feature-extraction").graph == members["encoder.onnx"]


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        (_entry("../model.onnx"), "climbs out of the archive"),
        (_entry("a/../../x.json"), "climbs out of the archive"),
        (_entry("/etc/passwd"), "absolute or non-portable path"),
        (_entry("C:/model.onnx"), "absolute or non-portable path"),
        (_entry("sub\\model.onnx"), "absolute or non-portable path"),
        (_entry("sub/config.json"), "is in a folder"),
        (_entry("vocab.txt", tarfile.SYMTYPE, link="/etc/passwd"), "is a link"),
        (_entry("vocab.txt", tarfile.LNKTYPE, link="model.onnx"), "is a link"),
        (_entry("vocab.txt", tarfile.CHRTYPE), "device or special file"),
        (_entry("vocab.txt", tarfile.FIFOTYPE), "device or special file"),
        (_entry("sub", tarfile.DIRTYPE), "is a folder"),
        (_entry("run.sh"), "is not part of a text model"),
    ],
)
def test_hostile_tar_members_are_refused(entry: Entry, needle: str) -> None:
    members = [_entry(name, content=content) for name, content in files().items()]

    _refused(tar_gz_entries([*members, entry]), needle)


def test_a_name_seen_twice_is_refused_in_a_tar() -> None:
    members = [_entry(name, content=content) for name, content in files().items()]

    _refused(tar_gz_entries([*members, _entry("./tokenizer.json", content=b"{}")]), "'tokenizer.json' appears twice")


def test_a_name_seen_twice_is_refused_in_a_zip() -> None:
    members = list(files().items())
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_archive([*members, ("config.json", b"{}")])

    _refused(data, "'config.json' appears twice")


def test_a_zip_symlink_and_zip_traversal_are_refused() -> None:
    link = zipfile.ZipInfo("vocab.txt")
    link.external_attr = 0o120777 << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files().items():
            archive.writestr(name, content)
        archive.writestr(link, "/etc/passwd")

    _refused(buffer.getvalue(), "is a link")
    _refused(zip_archive({**files(), "../evil.json": b"{}"}), "climbs out of the archive")


def test_an_encrypted_zip_member_is_refused() -> None:
    data = bytearray(zip_archive(files()))
    # Set the encryption bit in the central directory entry of the first member.
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
    first = data.find(b"PK\x01\x02")
    assert central >= first >= 0
    data[first + 8] |= 0x1

    _refused(bytes(data), "is encrypted")


def test_members_over_their_limit_are_refused_by_what_they_hold_not_their_header() -> None:
    members = files()

    _refused(
        tar_gz({**members, "model.onnx": os.urandom(33 * 1024)}), "'model.onnx' is larger than 32,768 bytes", SMALL
    )
    _refused(zip_archive({**members, "vocab.txt": os.urandom(5000)}), "'vocab.txt' is larger than 4,096 bytes", SMALL)


def test_a_zip_whose_header_understates_a_member_is_refused() -> None:
    """zipfile stops at the declared size and then fails the CRC: the lie never passes."""
    data = bytearray(zip_archive({**files(), "vocab.txt": b"a" * 3000}))
    central = data.rfind(b"vocab.txt")  # the central directory's copy of the name (the last one)
    header = central - 46
    assert data[header : header + 4] == b"PK\x01\x02"
    data[header + 24 : header + 28] = (10).to_bytes(4, "little")  # uncompressed size: 10 bytes

    _refused(bytes(data), "not a readable .zip archive")


def test_the_total_uncompressed_size_is_bounded() -> None:
    members = {name: content for name, content in files().items() if name != "model.onnx"}
    members["model.onnx"] = os.urandom(32 * 1024)
    members["vocab.txt"] = os.urandom(4 * 1024)
    members["merges.txt"] = os.urandom(4 * 1024)
    limits = ArchiveLimits(**{**SMALL.__dict__, "total_bytes": 40 * 1024})

    _refused(zip_archive(members), "take more than 40,960 bytes uncompressed", limits)
    _refused(tar_gz(members), "more than 40,960 bytes uncompressed", limits)


@pytest.mark.parametrize("pack", [tar_gz, zip_archive])
def test_a_decompression_bomb_is_refused_while_it_inflates(pack) -> None:  # type: ignore[no-untyped-def]
    """10 MiB of zeros compress to ~10 KiB: refused by the ratio, long before the 16 MiB vocabulary limit."""
    bomb = pack({**files(), "vocab.txt": bytes(10 * 1024 * 1024)})

    _refused(bomb, "inflates more than 100 times its compressed size")


def test_too_many_members_are_refused() -> None:
    members = {**files(), **dict.fromkeys(("special_tokens_map.json", "added_tokens.json", "vocab.json"), b"{}")}

    _refused(zip_archive(members), "more than 6 members", SMALL)


@pytest.mark.parametrize(
    ("drop", "task", "needle"),
    [
        ("model.onnx", "feature-extraction", "holds no ONNX graph"),
        ("tokenizer.json", "feature-extraction", "holds no tokenizer.json"),
        ("config.json", "text-classification", "needs config.json"),
    ],
)
def test_required_members_are_required(drop: str, task: str, needle: str) -> None:
    members = files(task)
    del members[drop]

    _refused(tar_gz(members), needle, task=task)


def test_two_graphs_and_unparsable_json_and_non_archives_are_refused() -> None:
    members = files()

    _refused(tar_gz({**members, "model_quantized.onnx": b"x"}), "holds 2 .onnx files")
    _refused(tar_gz({**members, "config.json": b"{nope"}), "config.json is not valid JSON")
    _refused(tar_gz({**members, "config.json": b"[1]"}), "config.json is not a JSON object")
    _refused(tar_gz({**members, "tokenizer.json": b"\xff\xfe"}), "tokenizer.json is not UTF-8 text")
    _refused(members["model.onnx"], "neither a .tar.gz nor a .zip archive")
    _refused(tar_gz(members)[:200], "not a readable .tar.gz archive")
    _refused(b"PK\x03\x04" + os.urandom(100), "not a readable .zip archive")


def test_a_refusal_quotes_a_hostile_name_shortened_and_printable() -> None:
    members = [_entry(name, content=content) for name, content in files().items()]

    with pytest.raises(ArchiveRefusedError) as refused:
        read_text_archive(tar_gz_entries([*members, _entry("\x1b[31m" + "x" * 200)]), "feature-extraction")

    assert "\x1b" not in str(refused.value)
    assert len(str(refused.value)) < 400


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _old_gnu_sparse(name: str, data: bytes, real_size: int) -> bytes:
    """A GNU ``S`` header by hand (tarfile cannot write one): one region at the end holding ``data``."""
    header = bytearray(512)
    header[0 : len(name)] = name.encode()
    header[100:108], header[108:116], header[116:124] = _octal(0o644, 8), _octal(0, 8), _octal(0, 8)
    header[124:136], header[136:148] = _octal(len(data), 12), _octal(0, 12)
    header[156:157], header[257:265] = tarfile.GNUTYPE_SPARSE, tarfile.GNU_MAGIC
    header[386:398], header[398:410] = _octal(real_size - len(data), 12), _octal(len(data), 12)
    header[483:495] = _octal(real_size, 12)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data + bytes(-len(data) % 512)


def _sparse_tar_gz(version: str, graph: bytes) -> bytes:
    """The model's files with ``model.onnx`` stored sparse: in the old GNU header or a PAX sparse format."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in files().items():
            if name != "model.onnx":
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
        if version != "gnu":
            info, stored = tarfile.TarInfo("model.onnx"), graph
            size, region = str(len(graph)), {"GNU.sparse.offset": "0", "GNU.sparse.numbytes": str(len(graph))}
            if version == "0.0":
                info.pax_headers = {"GNU.sparse.size": size, **region}
            elif version == "0.1":
                info.pax_headers = {"GNU.sparse.size": size, "GNU.sparse.map": f"0,{len(graph)}"}
            else:  # 1.0: the map leads the member's data
                sparse_map = f"1\n0\n{len(graph)}\n".encode()
                stored = sparse_map + bytes(-len(sparse_map) % 512) + graph
                headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": size}
                info.pax_headers = {**headers, "GNU.sparse.name": "model.onnx"}
            info.size = len(stored)
            archive.addfile(info, io.BytesIO(stored))
    raw = buffer.getvalue()
    if version == "gnu":
        ending = raw.rstrip(b"\0")
        raw = ending + bytes(-len(ending) % 512) + _old_gnu_sparse("model.onnx", graph, len(graph)) + bytes(1024)
    return gzip.compress(raw)


@pytest.mark.parametrize("version", ["gnu", "0.0", "0.1", "1.0"])
def test_a_sparse_member_is_refused_whatever_its_sparse_format(version: str) -> None:
    """tar fills a sparse file's holes on reading: a few KiB uploaded came out as a 251 MB graph."""
    graph = files()["model.onnx"]
    data = _sparse_tar_gz(version, graph)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as archive:  # a sparse member tar reads whole
        member = archive.getmember("model.onnx")
        assert member.issparse()
        assert member.isreg()
        assert archive.extractfile(member).read() == graph  # type: ignore[union-attr]

    _refused(data, "member 'model.onnx' is a sparse file; only regular files are allowed")
