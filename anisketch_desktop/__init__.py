"""AniSketch Desktop: anime pictures to clean line art (and back) with a U-Net."""

__version__ = "0.1.0"
APP_NAME = "AniSketch"
ORG_NAME = "AniSketch"
