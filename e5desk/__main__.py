from e5desk.cli import main

raise SystemExit(main())
