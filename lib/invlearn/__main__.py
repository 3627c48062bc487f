from invlearn.cli import main

raise SystemExit(main())
