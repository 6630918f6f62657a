from smol_tools.interfaces.cli import main

raise SystemExit(main())
