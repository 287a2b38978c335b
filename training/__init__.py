"""Training pipeline of the AniSketch U-Nets: data, augmentation, losses, loop, DDP, export, recipes."""
