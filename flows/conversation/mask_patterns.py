"""The shapes contact details take in the six languages, as regular expressions for masking.

Kept apart from the masking logic so the word lists (street words, digit words, "at" and "dot"
as people type them) can grow without touching how spans are found and replaced.
"""

import re

DIGIT = r"[0-9\u0660-\u0669\u06F0-\u06F9]"

# Top-level domains a bare link ends in: generic ones and those of the countries we serve.
TLDS = (
    "com|net|org|info|biz|io|me|co|app|dev|ly|gl|gg|to|tv|cc|link|site|online|xyz|page|"
    "pl|ua|ru|by|kz|md|ge|ir|af|tj|sa|ae|eg|iq|sy|jo|lb|ye|sd|tr|de|uk|eu|us|ca|fr|it|es|nl|"
    "be|at|ch|cz|sk|lt|lv|ee|se|no|fi|dk|рф|укр"
)
_URL = r"(?:https?|ftp)://\S+|(?:tg|whatsapp|viber|signal|skype|sms|mailto):\S+|www\.\S+"
_BARE = rf"(?<![\w@.\-])(?:[\w](?:[\w\-]{{0,61}}[\w])?\.)+(?:{TLDS})(?![\w\-])(?:/\S*)?"
LINK = re.compile(rf"(?:{_URL}|{_BARE})", re.IGNORECASE)

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
# "anna at wp dot pl", "anna (at) gmail (dot) com", "anna małpa wp kropka pl", "анна собака ..."
_AT = r"(?:at|małpa|malpa|małpka|собака|собачка|равлик|эт|ат|ات)"
_DOT = r"(?:dot|kropka|точка|крапка|نقطه|نقطة|دات)"
_OPEN, _CLOSE = r"[\(\[{<]?", r"[\)\]}>]?"
SPELLED_EMAIL = re.compile(
    rf"(?<![\w@])[\w.+\-]+\s*{_OPEN}\s*{_AT}\s*{_CLOSE}\s*[\w\-]+"
    rf"(?:(?:\s*{_OPEN}\s*{_DOT}\s*{_CLOSE}\s*|\.)[\w\-]+)*"
    rf"(?:\s*{_OPEN}\s*{_DOT}\s*{_CLOSE}\s*|\.)(?:{TLDS})(?!\w)",
    re.IGNORECASE,
)

USERNAME = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_.]{2,}[A-Za-z0-9_]")
_NETWORKS = (
    r"insta(?:gram)?|ig|telegram|telegramie|tg|tiktok|snap(?:chat)?|fb|facebook|viber|signal|"
    r"whatsapp|skype|discord|twitter|threads|vk|ok|imo|line|ник|нік|логин|логін|username|"
    r"user ?name|nick|nickname|login|profil|profile|аккаунт|акаунт"
)
# "insta: annak", "telegram - olena.kyiv": a name right after a network and a colon or dash.
HANDLE_AFTER_NETWORK = re.compile(
    rf"(?<!\w)(?:{_NETWORKS})\s*[:\-—–]\s*(?P<handle>@?[A-Za-z][A-Za-z0-9_.]{{2,}}[A-Za-z0-9_])",
    re.IGNORECASE,
)
# A handle without @ by its look: an underscore (anna_k88), a name and two digits (annak88),
# a lower-case dotted name with digits (olena.kyiv90).
HANDLE_SHAPE = re.compile(
    r"(?<![\w@./:\-])(?=[A-Za-z0-9_.]{5,})"
    r"(?:[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_.]*[A-Za-z0-9]"
    r"|[A-Za-z]{3,}[0-9]{2,}"
    r"|[a-z][a-z0-9]*\.[a-z0-9.]*[0-9][a-z0-9]*)"
    r"(?![\w@])"
)

# Street addresses: a street word, the street's name, a house number (and flat), maybe a city.
_STREET = (
    r"ul\.|ulica|ulicy|al\.|aleja|alei|os\.|osiedle|osiedlu|pl\.|plac|placu|"
    r"вул\.|вулиця|вулиці|просп\.|проспект|проспекті|пров\.|провулок|бульв\.|бульвар|площа|"
    r"ул\.|улица|улице|пр-т|пр\.|пер\.|переулок|площадь|ш\.|шоссе|"
    r"خیابان|خيابان|کوچه|كوچه|بلوار|میدان|ميدان|پلاک|پلاك|"
    r"شارع|حي|طريق|عمارة|بناية|جادة|زقاق|"
    r"street|road|avenue|lane"
)
_NAME_WORD = r"[^\W\d_][\w'’\-]*\.?"
_HOUSE = rf"{DIGIT}+[^\W\d_]?(?:\s*[/\-]\s*{DIGIT}+[^\W\d_]?)?"
_FLAT_WORD = r"m\.|m|kv\.|кв\.|кв|квартира|mieszkanie|apt\.?|flat|شقة|واحد|дом|д\."
_FLAT = rf"(?:[,\s]+(?:{_FLAT_WORD})\s*{DIGIT}+)?"
_CITY = r"(?:,?\s+[A-ZĄĆĘŁŃÓŚŹŻА-ЯЁЇІЄҐ][a-ząćęłńóśźżа-яёїієґ'\-]{2,})?"
_MARKED = (
    rf"(?<!\w)(?:{_STREET})(?!\w)\s*(?:{_NAME_WORD}[\s،,]+){{0,3}}"
    rf"(?:(?:№|nr|no\.?|رقم|پلاک)\s*)?{_HOUSE}{_FLAT}{_CITY}"
)
_ENGLISH = (
    rf"(?<!\w){DIGIT}+[A-Za-z]?(?:\s+[A-Z][\w'\-]*){{1,3}}\s+"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Close|Court|Ct|Place|Square|Sq|"
    r"Boulevard|Blvd|Terrace|Crescent|Gardens|Grove)\b\.?" + _CITY
)
ADDRESS = re.compile(rf"{_MARKED}|{_ENGLISH}", re.IGNORECASE)

# Digits read out as words (a phone number spelled to slip past the mask): word -> digits.
_DIGIT_WORD_LIST = (
    "zero oh one two three four five six seven eight nine "
    "jeden jedna dwa dwie trzy cztery pięć piec sześć szesc siedem osiem dziewięć dziewiec "
    "нуль один одна два дві три чотири п'ять пʼять п’ять шість сім вісім дев'ять дев’ять "
    "ноль две четыре пять шесть семь восемь девять "
    "صفر یک يک يك دو سه چهار پنج شش هفت هشت نه "
    "واحد اثنان اثنين ثلاثة ثلاثه أربعة اربعة اربعه خمسة خمسه ستة سته سبعة سبعه ثمانية "
    "ثمانيه تسعة تسعه"
).split()
DIGIT_WORDS = {word: 1 for word in _DIGIT_WORD_LIST}
_WORD_ALTERNATIVES = "|".join(sorted(map(re.escape, _DIGIT_WORD_LIST), key=len, reverse=True))
NUMBER_WORD_RUN = re.compile(
    rf"(?<!\w)(?:{_WORD_ALTERNATIVES}|{DIGIT}+)(?:[\s,\-]+(?:{_WORD_ALTERNATIVES}|{DIGIT}+)){{3,}}(?!\w)",
    re.IGNORECASE,
)
