"""Building a training set: the Moebooru client, the SQLite dataset store, XDoG pairs, approval decisions.

Modules (no Qt; torch is never imported here):

* ``http``        PoliteSession: robots.txt, request spacing, Retry-After, backoff, Cloudflare detection
* ``moebooru``    post.xml/tag.xml client: safe XML, ``rating:safe`` always, paging by ``id:<N``
* ``download``    resumable (Range) and verified (md5/size/decode) picture downloads
* ``store``       the dataset folder and its SQLite manifest (``DatasetStore``, ``approved_pairs``)
* ``crawl``       ``crawl(dataset_dir, CrawlOptions, progress, cancel, log)`` and the ``NOTICE`` to show first
* ``importer``    ``import_folder(dataset_dir, folder)``: the user's own pictures instead of a crawl
* ``pairs``       ``generate_pairs(dataset_dir, params)``: XDoG sketches, clarity scores, stale decisions
* ``approval``    ``set_decision``/``undo``/``review_pairs``/``counts``/``export_dataset``
* ``thumbnails``  ``thumbnail_path(dataset_dir, id, size, kind)``: cached on disk, built on demand
"""
