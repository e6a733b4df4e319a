"""Give the assembler the target flags of build_flags (a pre: script).

PlatformIO hands -mcpu, -mthumb, -mfloat-abi and -mfpu to the C compiler only;
preprocessed assembly (.S, such as firmware/lib/kws/conv_dsp_m4.S) would then be
assembled for gcc's default architecture and without __ARM_FEATURE_DSP. Library
builds copy the environment before post: scripts run, so this runs first and
reads the flags from the project option itself.
"""

Import("env")  # noqa: F821 (SCons injects Import)

TARGET_FLAGS = ("-mcpu=", "-mthumb", "-mfloat-abi=", "-mfpu=")

flags = []
for line in env.GetProjectOption("build_flags", []):  # noqa: F821
    flags += [f for f in line.split() if f.startswith(TARGET_FLAGS)]
env.Append(ASPPFLAGS=flags)  # noqa: F821
