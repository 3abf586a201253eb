from edgar_ingest.cli import main

raise SystemExit(main())
