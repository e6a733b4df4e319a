"""Give the linker the gcc driver flags that PlatformIO hands to the compiler only.

PlatformIO sorts build_flags with SCons' ParseFlags, which files -mcpu,
-mfloat-abi, --specs and -nostartfiles under compiler flags. gcc needs them when
linking too: they pick newlib's hard-float Thumb multilib and leave out crt0.
Without them the link fails on mismatched float ABIs. Used as a post: script by
every environment, the official platform's included.
"""

Import("env")  # noqa: F821 (SCons injects Import)

LINK_TOO = ("-m", "--specs=", "-nostartfiles")

env.Append(  # noqa: F821
    LINKFLAGS=[
        flag
        for flag in env["CCFLAGS"]  # noqa: F821
        if isinstance(flag, str) and flag.startswith(LINK_TOO)
    ]
)
