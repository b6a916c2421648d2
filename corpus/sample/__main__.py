"""``python -m corpus.sample``: write the bundled sample WARC (see :mod:`corpus.sample.build`)."""

from corpus.sample.build import main

raise SystemExit(main())
