"""Pure numpy / torch / OpenCV core: image I/O, XDoG, the U-Net, the inference engine, the pipeline.

Nothing here imports Qt. torch is imported lazily by the modules that need it (unet_*, engine, pipeline).
"""
