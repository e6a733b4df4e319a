"""Hardware in the loop: the firmware image run in an emulator, audio in, console lines and status out."""
