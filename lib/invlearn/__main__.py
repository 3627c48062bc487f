from invlearn.book.cli import main

raise SystemExit(main())
