import sys

from reemploy.cli import main

sys.exit(main())
