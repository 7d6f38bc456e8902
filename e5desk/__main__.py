import multiprocessing

from e5desk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the model process in frozen (PyInstaller) builds
    raise SystemExit(main())
