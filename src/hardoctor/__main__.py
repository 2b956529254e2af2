from hardoctor.cli import main

raise SystemExit(main())
