"""`python -m halfcost` runs the console script."""

from halfcost.cli import main

main()
