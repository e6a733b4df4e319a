"""Festival's non-English voices speaking the English words with an accent: more recorded people.

Debian ships festival voices recorded from Italian, Czech, Finnish, Catalan and Russian speakers (diphone,
HTS and unit-selection voices, one of them a child's). Each reads text with its own language's
letter-to-sound rules, so the English words are given to it respelled the way a speaker of that language
would write what they hear: "right" is "rait" in Italian and "rajt" in Czech. The result is English with
that accent, spoken by the vocal tract of a real person, which the English voices (five CMU speakers)
cannot provide. Measured with the Whisper teacher trained on the demo data: 0.8 to 1.0 of the ten keywords
recognised in every one of these voices. Measured in the student (int8, leave-one-engine-out, seeds 42 and
43): held-out espeak-ng rose from 0.526 / 0.546 to 0.607 / 0.599 and Kokoro from 0.557 / 0.534 to 0.589 /
0.590 when these voices joined the data; flite stayed within the seed noise (0.755 to 0.750 / 0.766).
"""

from __future__ import annotations

from dataclasses import dataclass

from nanokws.labels import FILLER_WORDS, KEYWORDS

WORDS: tuple[str, ...] = KEYWORDS + FILLER_WORDS


@dataclass(frozen=True)
class Language:
    """How one language's voices are given text: espeak-ng's name for the language (which espeak-ng and
    Kokoro's phonemiser read the respellings with), the encoding of festival's lexicon for it, and the
    respellings of WORDS, in that order."""

    code: str
    encoding: str
    spellings: tuple[str, ...]

    def respell(self, word: str) -> str:
        """The respelling of `word`; a word outside WORDS is read as written."""
        return self.spellings[WORDS.index(word)] if word in WORDS else word


def _language(code: str, encoding: str, spellings: str) -> Language:
    words = tuple(spellings.split())
    if len(words) != len(WORDS):
        raise ValueError(f"{len(words)} respellings for {len(WORDS)} words")
    return Language(code, encoding, words)


# fmt: off
# Cyrillic is meant: the Russian voice reads it (RUF001 warns of letters that look Latin).
# yes no up down left right on off stop go | bed bird cat dog eight five four happy house marvin nine one seven
# sheila six three tree two wow zero
LANGUAGES: dict[str, Language] = {
    "italian": _language(
        "it", "latin-1",
        "ies nou ap daun left rait on of stop gou bed berd chet dog eit "
        "faiv for eppi aus marvin nain uan seven scila sics tri tri tu uau ziro",
    ),
    "czech": _language(
        "cs", "iso-8859-2",
        "jes nou ap daun left rajt on of stop gou bed bérd ket dog ejt "
        "fajf fór hepi haus márvin najn uan sevn šíla siks trí trí tů uau zírou",
    ),
    "finnish": _language(
        "fi", "latin-1",
        "jes nou ap daun left rait on off stop gou bed böörd kät dog eit "
        "faiv foor häppi haus maarvin nain uan seven siila siks trii trii tuu uau siirou",
    ),
    "catalan": _language(
        "ca", "latin-1",
        "ies nou ap daun left rait on of stop gou bed berd quet dog eit "
        "faiv for hepi haus marvin nain uan seven xila sics tri tri tu uau ziro",
    ),
    "russian": _language(
        "ru", "utf-8",
        "йес ноу ап даун лефт райт он оф стоп гоу бэд бёрд кэт дог эйт "  # noqa: RUF001
        "файв фор хэппи хаус марвин найн уан сэвэн шила сикс сри три ту уау зироу",  # noqa: RUF001
    ),
}
# fmt: on


@dataclass(frozen=True)
class AccentVoice:
    voice: str  # festival's voice name: `(voice_<name>)`
    language: str  # a key of LANGUAGES
    speaker: str
    package: str  # the Debian package that installs it


ACCENT_VOICES: tuple[AccentVoice, ...] = (
    AccentVoice("lp_diphone", "italian", "festival:it-lp", "festvox-italp16k"),
    AccentVoice("pc_diphone", "italian", "festival:it-pc", "festvox-itapc16k"),
    AccentVoice("czech_dita", "czech", "festival:cs-dita", "festvox-czech-dita"),
    AccentVoice("czech_krb", "czech", "festival:cs-krb", "festvox-czech-krb"),
    AccentVoice("czech_machac", "czech", "festival:cs-machac", "festvox-czech-machac"),
    AccentVoice("czech_ph", "czech", "festival:cs-ph", "festvox-czech-ph"),
    AccentVoice("suo_fi_lj_diphone", "finnish", "festival:fi-lj", "festvox-suopuhe-lj"),
    AccentVoice("hy_fi_mv_diphone", "finnish", "festival:fi-mv", "festvox-suopuhe-mv"),
    AccentVoice("upc_ca_ona_hts", "catalan", "festival:ca-ona", "festvox-ca-ona-hts"),
    AccentVoice("msu_ru_nsh_clunits", "russian", "festival:ru-nsh", "festvox-ru"),
)
BY_VOICE: dict[str, AccentVoice] = {v.voice: v for v in ACCENT_VOICES}


def text_for(voice: str, word: str) -> tuple[str, str]:
    """What festival's `voice` is given to say `word`, and the encoding to write it in."""
    accent = BY_VOICE.get(voice)
    if accent is None:
        return word, "utf-8"
    language = LANGUAGES[accent.language]
    return language.respell(word), language.encoding


BY_CODE: dict[str, Language] = {language.code: language for language in LANGUAGES.values()}


def spoken(code: str, word: str) -> str:
    """What a voice of espeak-ng's language `code` is given to say `word`: its respelling where `code` is one
    of LANGUAGES, the word itself for English (or any other language)."""
    language = BY_CODE.get(code)
    return word if language is None else language.respell(word)
