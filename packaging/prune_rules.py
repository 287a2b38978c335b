"""What the build leaves out, and why. Used by anisketch.spec on PyInstaller's file lists (TOCs).

Each rule is a glob on the file's path inside the bundle (forward slashes; ``*`` also crosses ``/``). A rule
only goes here after a build without the file passed ``--self-test`` and opened the window (see README.md).
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatch
from pathlib import Path

# Qt modules we never import (we use QtCore, QtGui, QtWidgets, QtSvg). Excluding them keeps their hooks from
# collecting the Qt libraries, QML files, plugins and translations that belong to them.
UNUSED_QT_MODULES = [
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender", "QtAxContainer",
    "QtBluetooth", "QtCanvasPainter", "QtCharts", "QtConcurrent", "QtDataVisualization", "QtDBus", "QtDesigner",
    "QtGraphs", "QtGraphsWidgets", "QtHelp", "QtHttpServer", "QtLocation", "QtMultimedia",
    "QtMultimediaWidgets", "QtNetwork", "QtNetworkAuth", "QtNfc", "QtOpenGL", "QtOpenGLWidgets", "QtPdf",
    "QtPdfWidgets", "QtPositioning", "QtPrintSupport", "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2",
    "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialBus", "QtSerialPort",
    "QtSpatialAudio", "QtSql", "QtStateMachine", "QtSvgWidgets", "QtTest", "QtTextToSpeech", "QtUiTools",
    "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick", "QtWebEngineWidgets", "QtWebSockets", "QtWebView",
    "QtXml",
]

# (glob, reason). Paths are as inside the bundle's _internal/ folder.
PRUNE_RULES: list[tuple[str, str]] = [
    # torch: C++ headers, CMake files, static libraries, C++ test programs and test-only libraries
    ("torch/include/*", "C++ headers"),
    ("torch/share/*", "CMake config"),
    ("torch/test/*", "C++ unit-test programs"),
    ("torch/lib/*.a", "static libraries"),
    ("torch/lib/*.lib", "import libraries (Windows)"),
    ("torch/lib/libshm/*", "headers"),
    ("torch/lib/libshm_windows/*", "headers"),
    ("torch/lib/libaoti_custom_ops.*", "test library"),
    ("torch/lib/aoti_custom_ops.*", "test library"),
    ("torch/lib/libbackend_with_compiler.*", "test library"),
    ("torch/lib/backend_with_compiler.*", "test library"),
    ("torch/lib/libjitbackend_test.*", "test library"),
    ("torch/lib/jitbackend_test.*", "test library"),
    ("torch/lib/libtorchbind_test.*", "test library"),
    ("torch/lib/torchbind_test.*", "test library"),
    ("torch/bin/*", "test programs and protoc (torch_shm_manager is kept below)"),
    ("torch/_inductor/codegen/*.h", "C++ sources for compiled kernels (torch.compile is not used)"),
    ("torch/_inductor/codegen/aoti_runtime/*", "AOTInductor runtime sources"),
    ("torch/utils/benchmark/*.cpp", "C++ benchmark sources"),
    ("torch/utils/model_dump/*", "HTML/JS model viewer"),
    ("torchgen/packaged/*", "code-generation templates"),
    # Qt: translations (the UI is English only), plugins for platforms and formats we do not use
    ("PySide6/Qt/translations/*", "Qt translations (the app is not translated)"),
    ("PySide6/Qt/plugins/platforms/libqeglfs*", "embedded platform plugin"),
    ("PySide6/Qt/plugins/platforms/libqlinuxfb*", "embedded platform plugin"),
    ("PySide6/Qt/plugins/platforms/libqminimal*", "test platform plugin"),
    ("PySide6/Qt/plugins/platforms/libqvnc*", "VNC platform plugin"),
    ("PySide6/Qt/plugins/platforms/libqvkkhrdisplay*", "Vulkan display platform plugin"),
    ("PySide6/Qt/plugins/platforms/libqwayland*", "Wayland (Qt falls back to XWayland via xcb)"),
    ("PySide6/Qt/plugins/wayland-*", "Wayland plugins"),
    ("PySide6/Qt/plugins/egldeviceintegrations/*", "embedded EGL integrations"),
    ("PySide6/Qt/plugins/platforminputcontexts/*", "input methods (ibus/compose) need DBus; not needed"),
    ("PySide6/Qt/plugins/platformthemes/*", "desktop theme plugins (we apply our own theme)"),
    ("PySide6/Qt/plugins/generic/*", "touch/tablet input plugins"),
    ("PySide6/Qt/plugins/imageformats/*tga*", "image format we do not read with Qt"),
    ("PySide6/Qt/plugins/imageformats/*wbmp*", "image format we do not read with Qt"),
    ("PySide6/Qt/plugins/imageformats/*icns*", "image format we do not read with Qt"),
    ("PySide6/Qt/plugins/imageformats/*pdf*", "image format we do not read with Qt"),
    ("PySide6/Qt/lib/libQt6Pdf*", "PDF renderer (pulled by the pdf image plugin)"),
    ("PySide6/Qt/lib/libQt6Wayland*", "Wayland client"),
    ("PySide6/Qt/lib/libQt6EglFs*", "embedded EGL"),
    ("PySide6/Qt/lib/libQt6Quick*", "QML scene graph"),
    ("PySide6/Qt/lib/libQt6Qml*", "QML engine"),
    ("PySide6/Qt/lib/libQt6OpenGL*", "OpenGL widgets"),
    ("PySide6/Qt/lib/libQt6Network*", "Qt networking (requests does our HTTP)"),
    ("*.pyi", "type stubs"),
    ("PySide6/typesystems/*", "binding generator files"),
    ("PySide6/include/*", "headers"),
    ("shiboken6/include/*", "headers"),
    ("PySide6/Qt/metatypes/*", "build-time metadata"),
    ("PySide6/Qt/qml/*", "QML modules"),
    # numpy / opencv / PIL: tests, headers, sample data
    ("numpy/*/tests/*", "numpy tests"),
    ("numpy/_core/include/*", "C headers"),
    ("numpy/f2py/*", "Fortran wrapper generator"),
    ("cv2/data/*", "Haar cascades (not used)"),
    ("qdarkstyle/example/*", "demo"),
    ("PIL/_avif*", "AVIF codec (imageio reads PNG, JPEG, WebP, BMP, TIFF, GIF only)"),
]

KEEP: list[str] = [
    "torch/bin/torch_shm_manager",  # `import torch` fails without it on Linux
]


# torch modules whose .py source must ship: they call torch.utils._config_module.install_config_module, which
# reads the module's source with inspect (found with: grep -rl install_config_module site-packages/torch).
TORCH_SOURCE_MODULES = [
    "torch.utils._config_module", "torch.distributed.config", "torch._dynamo.config", "torch._export.config",
    "torch._functorch.config", "torch._inductor.config", "torch._inductor.config_comms", "torch.compiler.config",
    "torch.fx.experimental._config", "torch.utils.serialization.config",
]


# Debug symbols worth stripping (Linux): torch's own libraries (~98 MB of symbols) and the Python runtime when
# it was built from source with symbols (pyenv: ~15 MB in libpython, ~6 MB in lib-dynload). None of these is
# rewritten by auditwheel/patchelf. Stripping patchelf'd libraries (numpy.libs/, *.libs/, cv2) corrupts them
# ("ELF load command address/offset not page-aligned"), which is why the spec does not use strip=True.
STRIP_GLOBS = ["torch/lib/*.so*", "torch/_C.*.so", "libpython3*.so*", "python3.*/lib-dynload/*.so"]


def strip_symbols(internal_dir: str | Path, globs: list[str] | None = None) -> int:
    """Run ``strip --strip-unneeded`` on the matching files under ``internal_dir``; returns bytes saved."""
    import shutil
    import subprocess

    strip = shutil.which("strip")
    if strip is None:
        print("AniSketch: no `strip` program; debug symbols kept")
        return 0
    internal_dir = Path(internal_dir)
    saved = 0
    for pattern in globs or STRIP_GLOBS:
        for path in sorted(internal_dir.glob(pattern)):
            if path.is_symlink() or not path.is_file():
                continue
            before = path.stat().st_size
            subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
            saved += before - path.stat().st_size
    print(f"AniSketch: stripped debug symbols, {saved / 1e6:.1f} MB saved")
    return saved


def _name(entry) -> str:
    return str(entry[0]).replace("\\", "/")


def reason_to_drop(name: str) -> str | None:
    """Why a bundle path is pruned, or None to keep it."""
    name = name.replace("\\", "/")
    if any(fnmatch(name, keep) for keep in KEEP):
        return None
    for pattern, reason in PRUNE_RULES:
        if fnmatch(name, pattern):
            return reason
    return None


def _target(entry) -> str | None:
    """Bundle path a SYMLINK entry points at (PyInstaller stores it relative to the link's folder)."""
    if len(entry) < 3 or entry[2] != "SYMLINK":
        return None
    return os.path.normpath(os.path.join(os.path.dirname(_name(entry)), str(entry[1]))).replace("\\", "/")


def _size(entry) -> int:
    src = entry[1]
    return os.path.getsize(src) if src and entry[2] != "SYMLINK" and os.path.isfile(src) else 0


def prune(toc, rules_only: bool = False, get_imports=None):
    """Split a PyInstaller TOC into (kept, dropped); dropped items are (name, source, size, reason).

    Besides the rules, drops what only a dropped file needed: shared libraries reached through the dropped
    binaries' link-time dependencies that no kept binary reaches, and symlinks to dropped files.
    ``get_imports(path) -> names`` reads a binary's dependencies (PyInstaller's bindepend by default).
    """
    kept, dropped = [], []
    for entry in toc:
        reason = reason_to_drop(_name(entry))
        if reason is None:
            kept.append(entry)
        else:
            dropped.append((_name(entry), entry[1], _size(entry), reason))
    if not rules_only:
        orphans = _orphans(kept, [d[1] for d in dropped], get_imports or _pyinstaller_imports)
        if orphans:
            dropped += [(_name(e), e[1], _size(e), "library only a pruned file needed") for e in kept
                        if _name(e) in orphans]
            kept = [e for e in kept if _name(e) not in orphans]
    gone = {d[0] for d in dropped}
    links = [e for e in kept if _target(e) in gone]
    dropped += [(_name(e), e[1], 0, "symlink to a pruned file") for e in links]
    kept = [e for e in kept if e not in links]
    return kept, dropped


def _pyinstaller_imports(path: str) -> list[str]:
    try:
        from PyInstaller.depend.bindepend import get_imports

        return [name for name, _full in get_imports(path)]
    except Exception:  # not a binary PyInstaller can read: no dependencies to follow
        return []


def _is_binary(entry) -> bool:
    return len(entry) > 2 and entry[2] in ("BINARY", "EXTENSION") and bool(entry[1])


def _orphans(kept, dropped_sources, get_imports) -> set[str]:
    """Bundle names of kept libraries reachable only from dropped binaries."""
    by_base: dict[str, list] = {}
    for entry in kept:
        if _is_binary(entry):
            by_base.setdefault(os.path.basename(_name(entry)).lower(), []).append(entry)

    def closure(sources) -> set[str]:
        seen: set[str] = set()
        todo = [src for src in sources if src and os.path.isfile(src)]
        while todo:
            for dep in get_imports(todo.pop()):
                base = os.path.basename(str(dep).replace("\\", "/")).lower()
                for entry in by_base.get(base, []):
                    if _name(entry) not in seen:
                        seen.add(_name(entry))
                        todo.append(entry[1])
        return seen

    from_dropped = closure([src for src in dropped_sources if src])
    if not from_dropped:
        return set()
    roots = [e[1] for e in kept if _is_binary(e) and _name(e) not in from_dropped]
    needed = closure(roots) | {_name(e) for e in kept if _is_binary(e) and _name(e) not in from_dropped}
    return {name for name in from_dropped - needed if not any(fnmatch(name, keep) for keep in KEEP)}


def write_report(dropped, path: str | None) -> None:
    """Sum the pruned bytes per rule; write every pruned file to ``path`` (if given) and totals to stdout."""
    totals: dict[str, int] = {}
    for _, _src, size, reason in dropped:
        totals[reason] = totals.get(reason, 0) + size
    lines = [f"{size / 1e6:9.1f} MB  {reason}" for reason, size in sorted(totals.items(), key=lambda x: -x[1])]
    total = sum(totals.values())
    summary = "\n".join(lines + [f"{total / 1e6:9.1f} MB  pruned in all ({len(dropped)} files, before strip)"])
    print("AniSketch prune report:\n" + summary)
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(summary + "\n\n")
            for name, _src, size, reason in sorted(dropped):
                fh.write(f"{size:>12}  {name}  ({reason})\n")


_RUNTIME = re.compile(r"^(msvcp140|msvcp140_\d|msvcp140_atomic_wait|msvcp140_codecvt_ids|vcruntime140|"
                      r"vcruntime140_1|concrt140)\.dll$", re.IGNORECASE)


def _file_version(path: str) -> tuple[int, ...]:
    """Windows file version of a DLL (0,) when unknown; uses the Win32 API through ctypes."""
    try:
        import ctypes
        from ctypes import wintypes

        size = ctypes.windll.version.GetFileVersionInfoSizeW(path, None)
        if not size:
            return (0,)
        buf = ctypes.create_string_buffer(size)
        ctypes.windll.version.GetFileVersionInfoW(path, 0, size, buf)
        info = ctypes.c_void_p()
        length = wintypes.UINT()
        ctypes.windll.version.VerQueryValueW(buf, "\\", ctypes.byref(info), ctypes.byref(length))
        fixed = ctypes.cast(info, ctypes.POINTER(ctypes.c_uint32 * 13)).contents
        ms, ls = fixed[2], fixed[3]
        return (ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF)
    except Exception:  # not on Windows, or no version resource
        return (0,)


def newest_msvc_runtime(binaries, search_dirs: list[str] | None = None):
    """Windows: bundle the newest MSVC runtime DLLs found, not whichever copy (often Qt's older one) came first.

    With an older msvcp140.dll in the bundle, torch's c10.dll fails to load once Qt has loaded that runtime.
    """
    dirs = list(search_dirs or [])
    dirs.append(os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32"))
    try:
        import torch

        dirs.append(str(Path(torch.__file__).parent / "lib"))
    except ImportError:
        pass
    best: dict[str, tuple[tuple[int, ...], str]] = {}
    for folder in dirs:
        if not os.path.isdir(folder):
            continue
        for fname in os.listdir(folder):
            if _RUNTIME.match(fname):
                full = os.path.join(folder, fname)
                version = _file_version(full)
                if fname.lower() not in best or version > best[fname.lower()][0]:
                    best[fname.lower()] = (version, full)
    out = []
    for entry in binaries:
        base = os.path.basename(_name(entry)).lower()
        if base in best and _RUNTIME.match(base):
            out.append((entry[0], best[base][1], entry[2]))
        else:
            out.append(entry)
    return out
