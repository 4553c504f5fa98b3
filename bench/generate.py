"""A synthetic event log for benchmarks, in the NDJSON format ``diprec events`` exports.

    python -m bench.generate --events 1000000 --out /tmp/log.ndjson [--seed 7]

The log is what ``diprec import`` accepts and ``diprec rebuild`` projects without complaint:
stream ids derived as the record derives them, versions consecutive from 1 in every stream,
positions 1..N in file order, ``recorded_at`` strictly increasing from 2019-01-01 to
2026-11-01, and facts that obey the domain (two distinct parties per commission, every party
named at a session one of them, statistics only at convened sessions, a ``StatisticLocated``
right after each ``StatisticReported``, corrections only of statistics already reported, no
date after the day it is recorded). Sources are registered without text, so every quote stands.

The log is written as it is generated (never held in memory): a handful of session "tasks" are
interleaved, each emitting its session's events in order and sleeping between scheduling and
convening, while corrections and co-chair rotations wake up later in the log. One "hot"
commission gets at least ``hot_commission_events`` events (many sessions, each with many
statistics). Alongside the log, ``<path>.manifest.json`` describes it for the benchmarks.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import random
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, Final, NamedTuple, TextIO

from domain.ids import commission_id, session_id, source_id

RECORDED_BY: Final = "generator"
FIRST_RECORDED: Final = datetime(2019, 1, 1)
LAST_RECORDED: Final = datetime(2026, 11, 1)
#: No date in the log (not even a planned one) lies after this day.
LATEST_DAY: Final = date(2026, 11, 27)
MAX_COMMISSIONS: Final = 400
EVENTS_PER_COMMISSION: Final = 2_500
CONCURRENT_SESSIONS: Final = 24
HOT_DEADLINE: Final = 0.9  # the hot commission reaches its quota by this fraction of the log
SAMPLE_SESSIONS: Final = 50
SAMPLE_STATISTICS: Final = 100
HOT_SAMPLE_SESSIONS: Final = 10  # of the samples, at most this many are the hot commission's
HOT_SAMPLE_STATISTICS: Final = 20
AS_OF_SAMPLES: Final = 5


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


T_SOURCE: Final = "domain.source:Source.Registered"
T_SOURCE_TEXT: Final = "domain.source:Source.TextRegistered"
# Every so many sources have their text registered later, once some of their quotes are in
# the log: the read models then check those quotes again.
TEXT_LATER_EVERY: Final = 40
QUOTES_IN_A_TEXT: Final = 50
T_ESTABLISHED: Final = "domain.commission:Commission.Established"
T_APPOINTED: Final = "domain.commission:Commission.CoChairAppointed"
T_TENURE_ENDED: Final = "domain.commission:Commission.CoChairTenureEnded"
T_SCHEDULED: Final = "domain.session:Session.Scheduled"
T_CONVENED: Final = "domain.session:Session.Convened"
T_POSTPONED: Final = "domain.session:Session.Postponed"
T_CANCELLED: Final = "domain.session:Session.Cancelled"
T_CORRECTED: Final = "domain.session:Session.Corrected"
T_PROTOCOL: Final = "domain.session:Session.ProtocolSigned"
T_DECLARATION: Final = "domain.session:Session.DeclarationReferenced"
T_REPORTED: Final = "domain.session:Session.StatisticReported"
T_STAT_CORRECTED: Final = "domain.session:Session.StatisticCorrected"
T_RETRACTED: Final = "domain.session:Session.StatisticRetracted"
T_LOCATED: Final = "domain.statistic_index:StatisticIndex.Located"


@dataclass(frozen=True)
class Manifest:
    """What a generated log holds, for the benchmarks that load and query it.

    Commissions are named by their slug (the id the API uses), sessions by (commission, key).
    ``hot_commission_events`` counts the events of the hot commission's own stream, of its
    sessions' streams and of its statistics' ``StatisticLocated`` (sources not included).
    """

    events: int
    commissions: tuple[tuple[str, tuple[str, str]], ...]
    hot_commission: str
    hot_commission_events: int
    sample_sessions: tuple[tuple[str, str], ...]
    sample_statistics: tuple[str, ...]
    first_recorded_at: str
    last_recorded_at: str
    as_of_samples: tuple[str, ...]


# --- reference data ---------------------------------------------------------------------------


class Country(NamedTuple):
    formal: str  # as in a title: "Deputy Prime Minister of the Republic of Azerbaijan"
    short: str
    cities: tuple[str, ...]
    names: str  # the pool of NAMES its people's names come from


COUNTRIES: Final[dict[str, Country]] = {
    "AZ": Country("the Republic of Azerbaijan", "Azerbaijan", ("Baku", "Ganja"), "turkic"),
    "RU": Country("the Russian Federation", "Russia", ("Moscow", "Kazan", "Sochi"), "russian"),
    "KZ": Country("the Republic of Kazakhstan", "Kazakhstan", ("Astana", "Almaty"), "turkic"),
    "UZ": Country("the Republic of Uzbekistan", "Uzbekistan", ("Tashkent", "Samarkand"), "turkic"),
    "KG": Country("the Kyrgyz Republic", "Kyrgyzstan", ("Bishkek", "Osh"), "turkic"),
    "TJ": Country("the Republic of Tajikistan", "Tajikistan", ("Dushanbe", "Khujand"), "turkic"),
    "TM": Country("Turkmenistan", "Turkmenistan", ("Ashgabat", "Turkmenbashi"), "turkic"),
    "BY": Country("the Republic of Belarus", "Belarus", ("Minsk", "Brest"), "belarusian"),
    "AM": Country("the Republic of Armenia", "Armenia", ("Yerevan", "Gyumri"), "armenian"),
    "GE": Country("Georgia", "Georgia", ("Tbilisi", "Batumi"), "georgian"),
    "MD": Country("the Republic of Moldova", "Moldova", ("Chișinău", "Bălți"), "moldovan"),
    "UA": Country("Ukraine", "Ukraine", ("Kyiv", "Odesa"), "ukrainian"),
    "MN": Country("Mongolia", "Mongolia", ("Ulaanbaatar", "Darkhan"), "mongolian"),
    "TR": Country("the Republic of Türkiye", "Türkiye", ("Ankara", "Istanbul"), "turkish"),
    "IR": Country("the Islamic Republic of Iran", "Iran", ("Tehran", "Isfahan"), "iranian"),
    "EG": Country("the Arab Republic of Egypt", "Egypt", ("Cairo", "Alexandria"), "arab"),
    "SA": Country("the Kingdom of Saudi Arabia", "Saudi Arabia", ("Riyadh", "Jeddah"), "arab"),
    "AE": Country("the United Arab Emirates", "the UAE", ("Abu Dhabi", "Dubai"), "arab"),
    "QA": Country("the State of Qatar", "Qatar", ("Doha",), "arab"),
    "DZ": Country(
        "the People's Democratic Republic of Algeria", "Algeria", ("Algiers", "Oran"), "arab"
    ),
    "MA": Country("the Kingdom of Morocco", "Morocco", ("Rabat", "Casablanca"), "arab"),
    "CN": Country("the People's Republic of China", "China", ("Beijing", "Shanghai"), "chinese"),
    "IN": Country("the Republic of India", "India", ("New Delhi", "Mumbai"), "south_asian"),
    "PK": Country(
        "the Islamic Republic of Pakistan", "Pakistan", ("Islamabad", "Karachi"), "south_asian"
    ),
    "JP": Country("Japan", "Japan", ("Tokyo", "Osaka"), "japanese"),
    "KR": Country("the Republic of Korea", "Korea", ("Seoul", "Busan"), "korean"),
    "VN": Country(
        "the Socialist Republic of Viet Nam", "Viet Nam", ("Hanoi", "Da Nang"), "vietnamese"
    ),
    "ID": Country("the Republic of Indonesia", "Indonesia", ("Jakarta", "Surabaya"), "indonesian"),
    "FR": Country("the French Republic", "France", ("Paris", "Lyon"), "french"),
    "DE": Country("the Federal Republic of Germany", "Germany", ("Berlin", "Munich"), "german"),
    "IT": Country("the Italian Republic", "Italy", ("Rome", "Milan"), "italian"),
    "ES": Country("the Kingdom of Spain", "Spain", ("Madrid", "Barcelona"), "spanish"),
    "GB": Country("the United Kingdom", "the United Kingdom", ("London", "Edinburgh"), "english"),
    "PL": Country("the Republic of Poland", "Poland", ("Warsaw", "Kraków"), "polish"),
    "HU": Country("Hungary", "Hungary", ("Budapest", "Debrecen"), "hungarian"),
    "RO": Country("Romania", "Romania", ("Bucharest", "Cluj-Napoca"), "romanian"),
    "BG": Country("the Republic of Bulgaria", "Bulgaria", ("Sofia", "Plovdiv"), "bulgarian"),
    "RS": Country("the Republic of Serbia", "Serbia", ("Belgrade", "Novi Sad"), "serbian"),
    "GR": Country("the Hellenic Republic", "Greece", ("Athens", "Thessaloniki"), "greek"),
    "LV": Country("the Republic of Latvia", "Latvia", ("Riga", "Daugavpils"), "latvian"),
    "LT": Country("the Republic of Lithuania", "Lithuania", ("Vilnius", "Kaunas"), "lithuanian"),
    "FI": Country("the Republic of Finland", "Finland", ("Helsinki", "Turku"), "finnish"),
    "BR": Country(
        "the Federative Republic of Brazil", "Brazil", ("Brasília", "São Paulo"), "portuguese"
    ),
    "AR": Country("the Argentine Republic", "Argentina", ("Buenos Aires", "Córdoba"), "spanish"),
    "MX": Country("the United Mexican States", "Mexico", ("Mexico City", "Monterrey"), "mexican"),
    "ZA": Country(
        "the Republic of South Africa", "South Africa", ("Pretoria", "Cape Town"), "african_south"
    ),
    "NG": Country("the Federal Republic of Nigeria", "Nigeria", ("Abuja", "Lagos"), "nigerian"),
}
FRENCH_SPEAKING: Final = frozenset({"FR", "DZ", "MA"})
RUSSIAN_SPEAKING: Final = frozenset({"RU", "BY", "KZ", "KG", "UZ", "TJ", "TM", "AZ", "AM", "MD"})

# name pool: (men's first names, women's first names, surnames in their masculine form,
# how a surname takes its feminine form)
NAMES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]]] = {
    "russian": (
        _words("Alexei Mikhail Dmitry Sergei Andrei Viktor Vladimir Maxim"),
        _words("Elena Olga Irina Natalia Tatiana Svetlana"),
        _words("Overchuk Petrov Lukin Sokolov Morozov Kuznetsov Pavlov Orlov Belov Reshetnikov"),
        "slavic",
    ),
    "belarusian": (
        _words("Alexander Viktor Pavel Igor Yuri"),
        _words("Natalia Anna Marina Olga"),
        _words("Lukashevich Petrishenko Snopkov Parkhomchik Kovalev"),
        "slavic",
    ),
    "ukrainian": (
        _words("Oleksandr Taras Andriy Dmytro Yulia"),
        _words("Olha Iryna Oksana Natalia"),
        _words("Shevchenko Kovalenko Bondarenko Tkachenko Melnyk Kravchuk Moroz"),
        "none",
    ),
    "turkic": (
        _words("Shahin Nurlan Aibek Sardor Rustam Timur Arman Jamshid Elnur Serik"),
        _words("Dilnoza Aigerim Gulnara Leyla Saule"),
        _words(
            "Mustafayev Nurlanov Umarov Aliyev Sultanov Karimov Zhumabekov Rahmonov "
            "Mammadov Ismoilov Abdullayev Zhaksylykov"
        ),
        "slavic",
    ),
    "armenian": (
        _words("Armen Tigran Davit Mher Grigor"),
        _words("Anahit Lilit Mariam"),
        _words("Sargsyan Grigoryan Hakobyan Avetisyan Papikyan Mirzoyan"),
        "none",
    ),
    "georgian": (
        _words("Giorgi Levan Davit Irakli Zurab"),
        _words("Nino Tamar Mariam"),
        _words("Kobakhidze Beridze Gelashvili Lomidze Darchiashvili Garibashvili"),
        "none",
    ),
    "moldovan": (
        _words("Ion Vasile Andrei Mihai Dorin"),
        _words("Natalia Maia Ana Elena"),
        _words("Popescu Munteanu Ciobanu Rusu Gavrilița Recean"),
        "none",
    ),
    "romanian": (
        _words("Ion Mihai Andrei Radu Sorin"),
        _words("Ioana Elena Ana Raluca"),
        _words("Popescu Ionescu Dumitrescu Stan Constantin Marinescu"),
        "none",
    ),
    "turkish": (
        _words("Mehmet Cevdet Ömer Mustafa Hakan Murat"),
        _words("Fatma Ayşe Emine Zeynep"),
        _words("Yılmaz Demir Kaya Bolat Çelik Şahin Aydın Öztürk"),
        "none",
    ),
    "arab": (
        _words("Ahmed Omar Youssef Hassan Khalid Karim Abdullah Faisal"),
        _words("Leila Amina Fatima Nadia Mariam"),
        _words(
            "El-Sayed Al-Thani Benali Al-Rashid Mansour Haddad Al-Falasi Benkirane Bouzid "
            "Farouk Al-Saud"
        ),
        "none",
    ),
    "iranian": (
        _words("Reza Ali Mohammad Hossein Mehdi"),
        _words("Zahra Maryam Fatemeh"),
        _words("Rahimi Jafari Hosseini Karimi Ahmadi Moradi"),
        "none",
    ),
    "chinese": (
        _words("Wei Jun Ming Lei Qiang Tao"),
        _words("Hua Yan Li Na Jing"),
        _words("Wang Zhang Liu Chen Yang Zhao Huang Zhou"),
        "none",
    ),
    "japanese": (
        _words("Hiroshi Takeshi Kenji Yoshihide Taro Shinji"),
        _words("Yuki Akiko Haruka Naoko Yoko"),
        _words("Tanaka Sato Suzuki Takahashi Watanabe Ito Yamamoto Nakamura"),
        "none",
    ),
    "korean": (
        _words("Min-jun Ji-hoon Hyun-woo Dong-hyun Sung-ho"),
        _words("Seo-yeon Soo-jin Ji-eun Hye-jin"),
        _words("Kim Lee Park Choi Jung Kang Cho Yoon"),
        "none",
    ),
    "south_asian": (
        _words("Rajesh Arjun Anil Imran Bilal Vikram"),
        _words("Priya Sunita Ayesha Nirmala Sana"),
        _words("Sharma Patel Singh Gupta Iqbal Khan Malik Reddy"),
        "none",
    ),
    "vietnamese": (
        _words("Minh Hung Quang Tuan Dung"),
        _words("Lan Thu Huong Mai"),
        _words("Nguyen Tran Le Pham Hoang Vu Dang"),
        "none",
    ),
    "indonesian": (
        _words("Budi Agus Joko Bambang Airlangga"),
        _words("Siti Dewi Retno Sri"),
        _words("Santoso Wibowo Hartono Susanto Pratama Kusuma"),
        "none",
    ),
    "mongolian": (
        _words("Batbayar Ganbold Enkhbayar Bold Tsogt"),
        _words("Oyun Saran Enkhjargal"),
        _words("Ganbaatar Batbold Erdene Bayar Dorj Purev"),
        "none",
    ),
    "french": (
        _words("Jean Pierre Luc Nicolas Bruno Olivier"),
        _words("Marie Sophie Claire Camille Catherine"),
        _words("Dupont Martin Bernard Lefebvre Moreau Laurent Girard Rousseau"),
        "none",
    ),
    "german": (
        _words("Hans Klaus Stefan Thomas Robert Peter"),
        _words("Anna Petra Julia Sabine Annalena"),
        _words("Schmidt Müller Schneider Fischer Weber Becker Wagner Hoffmann"),
        "none",
    ),
    "italian": (
        _words("Luca Marco Paolo Antonio Giorgio"),
        _words("Giulia Francesca Chiara Elena"),
        _words("Rossi Bianchi Romano Colombo Ricci Marino Conte"),
        "none",
    ),
    "spanish": (
        _words("Javier Pablo Carlos Diego Fernando José"),
        _words("Carmen Lucía Isabel María Sofía Ana"),
        _words("García Fernández López Martínez Sánchez Romero González Rodríguez"),
        "none",
    ),
    "portuguese": (
        _words("João Carlos Paulo Fernando Marcos"),
        _words("Ana Mariana Luiza Beatriz"),
        _words("Silva Santos Oliveira Pereira Costa Almeida"),
        "none",
    ),
    "english": (
        _words("James David Richard Michael William"),
        _words("Sarah Emma Helen Elizabeth Rachel"),
        _words("Smith Jones Taylor Brown Wilson Evans Cleverly"),
        "none",
    ),
    "polish": (
        _words("Piotr Tomasz Marek Andrzej Krzysztof"),
        _words("Katarzyna Agnieszka Anna Magdalena"),
        _words("Kowalski Nowak Wiśniewski Wójcik Kamiński Zieliński Lewandowski"),
        "polish",
    ),
    "hungarian": (
        _words("Péter László Zoltán Gábor István"),
        _words("Katalin Judit Anna Zsófia"),
        _words("Nagy Szijjártó Kovács Tóth Szabó Horváth Varga"),
        "none",
    ),
    "bulgarian": (
        _words("Georgi Ivan Nikolai Dimitar Rumen"),
        _words("Maria Elena Daniela Teodora"),
        _words("Ivanov Georgiev Dimitrov Petrov Nikolov Stoyanov"),
        "slavic",
    ),
    "serbian": (
        _words("Aleksandar Nikola Miloš Dragan Ivica"),
        _words("Ana Jelena Maja Tatjana"),
        _words("Petrović Jovanović Nikolić Vučić Dačić Marković"),
        "none",
    ),
    "greek": (
        _words("Nikolaos Georgios Konstantinos Dimitrios Kyriakos"),
        _words("Maria Eleni Katerina Dora"),
        _words("Papadopoulos Georgiou Dimitriou Nikolaidis Papas Karamanlis"),
        "none",
    ),
    "latvian": (
        _words("Jānis Andris Krišjānis Edgars Arturs"),
        _words("Evika Inese Baiba"),
        _words("Bērziņš Kalniņš Ozoliņš Kariņš Rinkēvičs Zariņš"),
        "latvian",
    ),
    "lithuanian": (
        _words("Gabrielius Gitanas Linas Vilius Tomas"),
        _words("Ingrida Gabrielė Aušrinė"),
        _words("Landsbergis Nausėda Kazlauskas Skvernelis Jankauskas"),
        "none",
    ),
    "finnish": (
        _words("Mikko Antti Juha Petteri Ville"),
        _words("Sanna Elina Riikka Anna-Maja"),
        _words("Virtanen Korhonen Mäkinen Nieminen Orpo Haavisto"),
        "none",
    ),
    "african_south": (
        _words("Thabo Sipho Cyril Mandla"),
        _words("Zanele Naledi Nomvula Lindiwe"),
        _words("Mokoena Nkosi Dlamini Ndlovu Ramaphosa Pandor"),
        "none",
    ),
    "nigerian": (
        _words("Chinedu Oluwaseun Bola Yusuf Emeka"),
        _words("Ngozi Amara Funmilayo Aisha"),
        _words("Okafor Adeyemi Eze Tinubu Okonjo Bello"),
        "none",
    ),
    "mexican": (
        _words("Marcelo Andrés Luis Alejandro Juan"),
        _words("Alicia Claudia Rosa Mariana"),
        _words("Ebrard López Hernández Obrador Sheinbaum Ramírez"),
        "none",
    ),
}


def _feminine(surname: str, rule: str) -> str:
    """A surname as a woman bears it where the language inflects it (Petrov -> Petrova)."""
    if rule == "slavic" and surname.endswith(("ov", "ev", "in")):
        return surname + "a"
    if rule == "polish" and surname.endswith(("ski", "cki")):
        return surname[:-1] + "a"
    if rule == "latvian" and surname.endswith(("š", "s")):
        return surname[:-1] + ("a" if surname.endswith("š") else "e")
    return surname


CO_CHAIR_ROLES: Final = (
    "Deputy Prime Minister",
    "Minister of Economy",
    "Minister of Foreign Affairs",
    "Minister of Trade",
    "Minister of Energy",
    "Minister of Finance",
    "Minister of Agriculture",
    "Minister of Transport",
)
COMMISSION_KINDS: Final = (
    ("economic", "Intergovernmental Commission on economic cooperation between {a} and {b}"),
    (
        "trade-economic",
        "Intergovernmental Commission on trade and economic cooperation between {a} and {b}",
    ),
    ("intergovernmental", "Joint Intergovernmental Commission of {a} and {b}"),
    (
        "investment",
        "Intergovernmental Commission on investment and industrial cooperation between {a} and {b}",
    ),
)
# (slug prefix, publisher, web site, languages it writes in); None site: no URL given.
NEWS_AGENCIES: Final[dict[str, tuple[str, str, str, tuple[str, ...]]]] = {
    "AZ": ("azertac", "Azerbaijan State News Agency (AZERTAC)", "azertac.az", ("en", "ru")),
    "RU": ("tass", "TASS Russian News Agency", "tass.com", ("ru", "en")),
    "KZ": ("kazinform", "Kazinform International News Agency", "inform.kz", ("ru", "en")),
    "UZ": ("uza", "National News Agency of Uzbekistan (UzA)", "uza.uz", ("ru", "en")),
    "BY": ("belta", "Belarusian Telegraph Agency (BelTA)", "belta.by", ("ru", "en")),
    "TR": ("aa", "Anadolu Agency", "aa.com.tr", ("en", "fr")),
    "CN": ("xinhua", "Xinhua News Agency", "english.news.cn", ("en", "fr")),
    "FR": ("afp", "Agence France-Presse", "afp.com", ("fr", "en")),
    "DZ": ("aps", "Algérie Presse Service", "aps.dz", ("fr", "en")),
    "MA": ("map", "Maghreb Arabe Presse", "mapexpress.ma", ("fr", "en")),
    "KG": ("kabar", "Kyrgyz National News Agency Kabar", "kabar.kg", ("ru", "en")),
    "AM": ("armenpress", "Armenpress", "armenpress.am", ("en", "ru")),
}

TOPICS: Final = _words(
    "trade investment agriculture transport energy tourism humanitarian interregional "
    "finance industry health education digital other"
)
TOPIC_WORDS: Final = {
    "trade": "trade",
    "investment": "investment",
    "agriculture": "agriculture",
    "transport": "transport",
    "energy": "energy",
    "tourism": "tourism",
    "humanitarian": "humanitarian affairs",
    "interregional": "interregional ties",
    "finance": "finance",
    "industry": "industry",
    "health": "health care",
    "education": "education",
    "digital": "the digital economy",
}
QUALIFIERS: Final = ("exact", "approximately", "more_than", "less_than", "at_least", "at_most")
QUALIFIER_WEIGHTS: Final = (50, 25, 12, 4, 5, 4)
QUALIFIER_WORDS: Final[dict[str, tuple[str, str, str]]] = {
    "exact": ("", "", ""),
    "approximately": ("about ", "около ", "environ "),
    "more_than": ("more than ", "более ", "plus de "),
    "less_than": ("less than ", "менее ", "moins de "),
    "at_least": ("at least ", "не менее ", "au moins "),
    "at_most": ("at most ", "не более ", "au plus "),
}
LANGUAGES: Final = ("en", "ru", "fr")
# measure: (labels en/ru/fr, [(value kind, unit, weight)], weight)
MEASURES: Final[dict[str, tuple[tuple[str, str, str], tuple[tuple[str, str, int], ...], int]]] = {
    "trade_turnover": (
        (
            "Trade turnover between the two countries",
            "Товарооборот между двумя странами",
            "Les échanges commerciaux entre les deux pays",
        ),
        (("level", "USD", 6), ("change_pct", "percent", 3), ("rank", "rank", 1)),
        30,
    ),
    "exports": (
        (
            "Exports to the partner country",
            "Экспорт в страну-партнёр",
            "Les exportations vers le pays partenaire",
        ),
        (("level", "USD", 3), ("change_pct", "percent", 1)),
        10,
    ),
    "imports": (
        (
            "Imports from the partner country",
            "Импорт из страны-партнёра",
            "Les importations en provenance du pays partenaire",
        ),
        (("level", "USD", 3), ("change_pct", "percent", 1)),
        8,
    ),
    "non_oil_exports": (
        ("Non-oil exports", "Ненефтяной экспорт", "Les exportations hors hydrocarbures"),
        (("level", "USD", 3), ("change_pct", "percent", 1)),
        6,
    ),
    "agricultural_exports": (
        (
            "Agricultural exports",
            "Экспорт сельскохозяйственной продукции",
            "Les exportations agricoles",
        ),
        (("level", "USD", 2), ("level", "tonne", 2), ("change_pct", "percent", 1)),
        6,
    ),
    "fruit_vegetable_exports": (
        (
            "Exports of fruit and vegetables",
            "Экспорт плодоовощной продукции",
            "Les exportations de fruits et légumes",
        ),
        (("level", "tonne", 3), ("level", "USD", 1), ("change_pct", "percent", 1)),
        4,
    ),
    "freight_volume": (
        (
            "Freight traffic between the two countries",
            "Объём грузоперевозок между странами",
            "Le volume du fret entre les deux pays",
        ),
        (("level", "tonne", 3), ("change_pct", "percent", 1)),
        6,
    ),
    "tourist_arrivals": (
        (
            "The number of tourist trips",
            "Турпоток между странами",
            "Le nombre de voyages touristiques",
        ),
        (("level", "person", 3), ("change_pct", "percent", 1)),
        5,
    ),
    "investment": (
        ("Mutual investment", "Объём взаимных инвестиций", "Les investissements mutuels"),
        (("level", "USD", 1),),
        6,
    ),
    "agreements_signed": (
        ("Agreements signed", "Подписанные соглашения", "Les accords signés"),
        (("count", "count", 1),),
        4,
    ),
    "settlement_share_national_currency": (
        (
            "The share of national currencies in mutual settlements",
            "Доля национальных валют во взаиморасчётах",
            "La part des monnaies nationales dans les règlements mutuels",
        ),
        (("share_pct", "percent", 1),),
        4,
    ),
}
MEASURE_NAMES: Final = tuple(MEASURES)
MEASURE_WEIGHTS: Final = tuple(spec[2] for spec in MEASURES.values())

MONTHS_EN: Final = _words(
    "January February March April May June July August September October November December"
)
MONTHS_RU_GENITIVE: Final = _words(
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
)
MONTHS_RU_PREPOSITIONAL: Final = _words(
    "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре"
)
MONTHS_FR: Final = _words(
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
)
MONTHS_RU: Final = _words(
    "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь"
)
QUARTERS_RU_ACCUSATIVE: Final = ("первый", "второй", "третий", "четвёртый")
QUARTERS_EN: Final = ("first", "second", "third", "fourth")
QUARTERS_RU: Final = ("первом", "втором", "третьем", "четвёртом")
QUARTERS_FR: Final = ("premier", "deuxième", "troisième", "quatrième")
ORDINALS_EN: Final = (
    "",
    "",
    *(f"{w}-" for w in _words("second third fourth fifth sixth seventh eighth ninth tenth")),
)

POSTPONE_REASONS: Final = (
    "At the request of one of the sides.",
    "The agenda and the draft protocol were not ready in time.",
    "The co-chairs' schedules could not be reconciled.",
    "The sides agreed to hold the meeting together with a business forum.",
    "Government changes in one of the countries.",
)
CANCEL_REASONS: Final = (
    "The draft programme could not be agreed in time.",
    "The sides decided to hold a co-chairs' meeting instead.",
    "Preparations were suspended by mutual agreement.",
)
RETRACT_REASONS: Final = (
    "The figure could not be confirmed; the errata note withdraws it.",
    "The statement was attributed to the wrong session.",
    "The source corrected the article and no longer gives the figure.",
    "The figure duplicated another statistic reported at the same session.",
)
DECLARATIONS: Final = (
    "Declaration on strategic partnership",
    "Declaration on allied interaction",
    "Joint Declaration on comprehensive partnership",
    "Declaration on the deepening of economic cooperation",
    "Memorandum on the development of transport corridors",
)
SUMMARY_ADDITIONS: Final = (
    "the modernisation of border crossing points",
    "the development of the North-South transport corridor",
    "cooperation in the field of renewable energy",
    "the launch of a joint investment fund",
    "the simplification of customs procedures",
)

# compact and unescaped, as ``diprec events`` writes its lines
_ENCODE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

Data = dict[str, Any]
# (type, stream, topic, data, commission slug or None)
Event = tuple[str, str, str, Data, str | None]
Group = list[Event]


@dataclass(frozen=True)
class Sleep:
    """A task's request to be resumed no earlier than this position."""

    until: int


Step = Group | Sleep
Task = Iterator[Step]


@dataclass
class _Commission:
    slug: str
    stream: str
    parties: tuple[str, str]
    hot: bool
    chairs: dict[str, tuple[str, str]]  # party -> (name, title)
    next_ordinal: int
    keys: set[str]


@dataclass(frozen=True)
class _Statistic:
    id: str
    value_kind: str
    value: str
    source: str  # the source it is quoted from: its correction quotes the same one


# --- helpers ----------------------------------------------------------------------------------


def _fit_quote(text: str) -> str:
    """A quote of 40 to 300 characters."""
    if len(text) < 40:
        text = text + " " + "The sides confirmed their readiness to continue the work."
    if len(text) > 300:
        text = text[:300].rsplit(" ", 1)[0]
    return text


def _decimal_text(units: int, scale: int) -> str:
    """``units / 10**scale`` written plainly, without trailing zeros: (445, 2) -> "4.45"."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    whole, fraction = divmod(units, 10**scale)
    if scale == 0 or fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{scale}d}".rstrip("0")


def _partial(day: date, precision: str) -> str:
    if precision == "year":
        return f"{day.year}"
    if precision == "quarter":
        return f"{day.year}-Q{(day.month + 2) // 3}"
    if precision == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def _say_partial(text: str, lang: str) -> str:
    """A partial date in words: "17 May 2024", "the second quarter of 2024", "2024"."""
    year = text[:4]
    if len(text) == 4:
        return {"en": year, "ru": f"{year} год", "fr": year}[lang]
    if text[5] == "Q":
        q = int(text[6]) - 1
        return {
            "en": f"the {QUARTERS_EN[q]} quarter of {year}",
            "ru": f"{QUARTERS_RU_ACCUSATIVE[q]} квартал {year} года",
            "fr": f"le {QUARTERS_FR[q]} trimestre {year}",
        }[lang]
    month = int(text[5:7]) - 1
    if len(text) == 7:
        return {
            "en": f"{MONTHS_EN[month]} {year}",
            "ru": f"{MONTHS_RU[month]} {year} года",
            "fr": f"{MONTHS_FR[month]} {year}",
        }[lang]
    day = int(text[8:10])
    return {
        "en": f"{day} {MONTHS_EN[month]} {year}",
        "ru": f"{day} {MONTHS_RU_GENITIVE[month]} {year} года",
        "fr": f"{day} {MONTHS_FR[month]} {year}",
    }[lang]


def _say_period(period: str, lang: str) -> str:
    """A statistic's period as a phrase: "in January–May 2024", "в 2023 году"."""
    if "/" in period:
        start, end = period.split("/")
        year = start[:4]
        m1, m2 = int(start[5:7]) - 1, int(end[5:7]) - 1
        return {
            "en": f"in {MONTHS_EN[m1]}–{MONTHS_EN[m2]} {year}",
            "ru": f"в {MONTHS_RU_PREPOSITIONAL[m1]}–{MONTHS_RU_PREPOSITIONAL[m2]} {year} года",
            "fr": f"de {MONTHS_FR[m1]} à {MONTHS_FR[m2]} {year}",
        }[lang]
    year = period[:4]
    if len(period) == 4:
        return {"en": f"in {year}", "ru": f"в {year} году", "fr": f"en {year}"}[lang]
    if period[5] == "Q":
        q = int(period[6]) - 1
        return {
            "en": f"in the {QUARTERS_EN[q]} quarter of {year}",
            "ru": f"в {QUARTERS_RU[q]} квартале {year} года",
            "fr": f"au {QUARTERS_FR[q]} trimestre {year}",
        }[lang]
    month = int(period[5:7]) - 1
    return {
        "en": f"in {MONTHS_EN[month]} {year}",
        "ru": f"в {MONTHS_RU_PREPOSITIONAL[month]} {year} года",
        "fr": f"en {MONTHS_FR[month]} {year}",
    }[lang]


def _say_when(text: str, lang: str) -> str:
    """When a session was held: "on 17 May 2024", "in May 2024", "в 2024 году"."""
    if len(text) == 10:
        said = _say_partial(text, lang)
        return {"en": f"on {said}", "ru": said, "fr": f"le {said}"}[lang]
    return _say_period(text, lang)


def _enumerate(items: Sequence[str]) -> str:
    """Joins ``["a", "b", "c"]`` as "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _localised_number(text: str, lang: str) -> str:
    return text if lang == "en" else text.replace(".", ",")


# --- the generator ----------------------------------------------------------------------------


class _Reservoir:
    """A uniform sample of fixed size from a stream of items (reservoir sampling)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen = 0
        self.items: list[Any] = []

    def offer(self, item: Any, rng: random.Random) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            slot = rng.randrange(self.seen)
            if slot < self.size:
                self.items[slot] = item

    @staticmethod
    def merged(hot: _Reservoir, other: _Reservoir, size: int) -> tuple[Any, ...]:
        """The hot commission's items first, then the others, ``size`` in all."""
        return tuple((hot.items + other.items)[:size])


class _Log:
    """Writes the log event by event and runs the tasks that produce its events."""

    def __init__(self, out: TextIO, events: int, seed: int, hot_commission_events: int) -> None:
        self.out = out
        self.n = events
        self.rng = random.Random(seed)
        self.sample_rng = random.Random(seed * 7919 + 1)
        self.position = 0
        self.versions: dict[str, int] = {}
        self.commission_counts: Counter[str] = Counter()
        self.total_us = (LAST_RECORDED - FIRST_RECORDED) // timedelta(microseconds=1)
        self.step_us = self.total_us // max(events, 1)
        self.jitter_us = max(1, self.step_us * 4 // 5)
        self.last_recorded_at = ""
        self.first_recorded_at = ""
        wanted = {max(1, events * (i + 1) // (AS_OF_SAMPLES + 1)) for i in range(AS_OF_SAMPLES)}
        self.as_of_positions = wanted
        self.as_of: list[str] = []
        self.source_serial = 0
        # The quotes recorded so far of each source whose text is registered later.
        self.awaiting_text: dict[str, list[str]] = {}
        self.sleeping: list[tuple[int, int, Task]] = []
        self.sequence = 0
        # reservoirs of convened sessions and of statistics, the hot commission's apart
        self.session_samples = (_Reservoir(HOT_SAMPLE_SESSIONS), _Reservoir(SAMPLE_SESSIONS))
        self.statistic_samples = (_Reservoir(HOT_SAMPLE_STATISTICS), _Reservoir(SAMPLE_STATISTICS))
        self.commissions = self._plan_commissions()
        self.hot = self.commissions[0]
        overhead = 8 * len(self.commissions)
        # a small margin: the hot commission's count may trail its quota by one group of events
        self.hot_target = max(0, min(hot_commission_events + 16, int(events * 0.85) - overhead))
        self.normal = [c for c in self.commissions if not c.hot] or [self.hot]
        # some commissions are busier than others, but none comes near the hot one
        self.cum_weights = list(
            accumulate(min(2.0, self.rng.lognormvariate(0, 0.6)) for _ in self.normal)
        )

    # --- time ---------------------------------------------------------------------------------

    def _base_us(self, position: int) -> int:
        return self.total_us * (position - 1) // max(self.n, 1)

    def today(self) -> date:
        """The day the next event is recorded on (at the earliest)."""
        moment = FIRST_RECORDED + timedelta(microseconds=self._base_us(self.position + 1))
        return moment.date()

    def position_of(self, day: date) -> int:
        """The first position recorded on ``day`` or later."""
        offset = (datetime(day.year, day.month, day.day) - FIRST_RECORDED) // timedelta(
            microseconds=1
        )
        if offset <= 0:
            return 1
        return -(-offset * max(self.n, 1) // self.total_us) + 1

    def later(self, days_from: int, days_to: int) -> int:
        day = self.today() + timedelta(days=self.rng.randint(days_from, days_to))
        return self.position_of(day)

    # --- output -------------------------------------------------------------------------------

    def emit(self, group: Group) -> bool:
        """Writes a group of events that belong together; when they no longer fit, fills the
        rest of the log with sources instead and returns False."""
        if self.position + len(group) > self.n:
            while self.position < self.n:
                self._write(self._filler())
            return False
        for event in group:
            self._write(event)
        return True

    def _write(self, event: Event) -> None:
        kind, stream, topic, data, commission = event
        self.position = position = self.position + 1
        version = self.versions.get(stream, 0) + 1
        if version > 1 or kind not in ("StatisticLocated", "SourceRegistered"):
            self.versions[stream] = version  # one-event streams need no entry
        micros = self._base_us(position) + self.rng.randrange(self.jitter_us)
        if micros % 1_000_000 == 0:
            micros += 1  # ``diprec events`` leaves out a zero fraction; keep every stamp alike
        recorded_at = (FIRST_RECORDED + timedelta(microseconds=micros)).isoformat(
            timespec="microseconds"
        ) + "Z"
        self.out.write(
            _ENCODE(
                {
                    "position": position,
                    "type": kind,
                    "stream": stream,
                    "version": version,
                    "recorded_at": recorded_at,
                    "recorded_by": RECORDED_BY,
                    "topic": topic,
                    "data": data,
                }
            )
        )
        self.out.write("\n")
        if commission is not None:
            self.commission_counts[commission] += 1
        if self.awaiting_text:
            for item in data.get("evidence", ()):
                quotes = self.awaiting_text.get(item["source"])
                if quotes is not None and len(quotes) < QUOTES_IN_A_TEXT:
                    quotes.append(item["quote"])
        if position == 1:
            self.first_recorded_at = recorded_at
        if position in self.as_of_positions:
            self.as_of.append(recorded_at)
        self.last_recorded_at = recorded_at

    def _filler(self) -> Event:
        return self.source(self.rng.choice(self.commissions), self.today(), "en")[1]

    # --- scheduling ---------------------------------------------------------------------------

    def sleep(self, until: int, task: Task) -> None:
        if until <= self.n:
            self.sequence += 1
            heapq.heappush(self.sleeping, (until, self.sequence, task))

    def run(self) -> None:
        rng = self.rng
        for commission in self.commissions:
            if not self.emit(self.establish(commission)):
                return
            self.sleep(self.later(300, 1500), self.rotation(commission))
        ready: list[Task] = []
        hot_ready: list[Task] = []
        hot_deadline = max(1, int(self.n * HOT_DEADLINE))
        while self.position < self.n:
            while self.sleeping and self.sleeping[0][0] <= self.position + 1:
                ready.append(heapq.heappop(self.sleeping)[2])
            due = self.hot_target * min(1.0, (self.position + 1) / hot_deadline)
            if self.commission_counts[self.hot.slug] < due:
                if not hot_ready:
                    hot_ready.append(self.session(self.hot))
                tasks = hot_ready
            else:
                while len(ready) < CONCURRENT_SESSIONS:
                    commission = rng.choices(self.normal, cum_weights=self.cum_weights)[0]
                    ready.append(self.session(commission))
                tasks = ready
            index = rng.randrange(len(tasks))
            task = tasks[index]
            step = next(task, None)
            if step is None or isinstance(step, Sleep):
                tasks[index] = tasks[-1]
                tasks.pop()
                if step is not None:
                    self.sleep(step.until, task)
            elif not self.emit(step):
                return

    # --- sources and commissions --------------------------------------------------------------

    def source(self, commission: _Commission, published: date, lang: str) -> tuple[str, Event]:
        """A source registered without text (every quote of it is taken as given)."""
        rng = self.rng
        self.source_serial += 1
        party = rng.choice(commission.parties)
        agency = NEWS_AGENCIES.get(party)
        a, b = (COUNTRIES[p].short for p in commission.parties)
        if agency is not None and lang in agency[3]:
            prefix, publisher, site, _ = agency
        else:
            prefix = f"mfa-{party.lower()}"
            publisher = f"Ministry of Foreign Affairs of {COUNTRIES[party].formal}"
            site = f"mfa.gov.{party.lower()}" if rng.random() < 0.5 else ""
        slug = f"{prefix}-{published.year}-{self.source_serial}"
        title = {
            "en": rng.choice(
                (
                    f"{a} and {b} hold a meeting of the intergovernmental commission",
                    f"{a}–{b} intergovernmental commission discusses trade and investment",
                    f"Co-chairs of the {a}–{b} commission review cooperation",
                    f"{a} and {b} agree to expand economic cooperation",
                )
            ),
            "ru": rng.choice(
                (
                    "Состоялось заседание межправительственной комиссии",
                    "Сопредседатели межправкомиссии обсудили торгово-экономическое сотрудничество",
                    "Межправительственная комиссия подвела итоги сотрудничества",
                )
            ),
            "fr": rng.choice(
                (
                    "Réunion de la commission intergouvernementale",
                    "La commission mixte examine la coopération économique",
                    "Les coprésidents de la commission intergouvernementale font le point",
                )
            ),
        }[lang]
        precision = rng.choices(("day", "month", "year"), (80, 15, 5))[0]
        data = {
            "slug": slug,
            "title": title,
            "publisher": publisher,
            "url": f"https://{site}/news/{self.source_serial}" if site else None,
            "language": lang,
            "published_on": _partial(published, precision),
            "text": None,
            "sha256": None,
        }
        if self.source_serial % TEXT_LATER_EVERY == 0:
            self._register_text_later(slug)
        return slug, ("SourceRegistered", str(source_id(slug)), T_SOURCE, data, None)

    def _register_text_later(self, slug: str) -> None:
        """Registers the source's text later: the quotes of it recorded by then, and a
        closing sentence."""
        self.awaiting_text[slug] = []

        def make() -> Group:
            quotes = self.awaiting_text.pop(slug, [])
            text = unicodedata.normalize(
                "NFC", " ".join([*quotes, "The sides agreed to meet again next year."])
            )
            stream = str(source_id(slug))
            self.versions[stream] = 1  # its registration, a stream of one event until now
            data = {
                "slug": slug,
                "text": text,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
            }
            return [("SourceTextRegistered", stream, T_SOURCE_TEXT, data, None)]

        self.sleep(self.later(30, 600), self._once(make))

    def _plan_commissions(self) -> list[_Commission]:
        rng = self.rng
        codes = sorted(COUNTRIES)
        pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
        count = max(1, min(MAX_COMMISSIONS, len(pairs), self.n // EVENTS_PER_COMMISSION))
        rng.shuffle(pairs)
        commissions: list[_Commission] = []
        for index in range(count):
            a, b = pairs[index]
            kind = rng.choice(COMMISSION_KINDS)[0]  # pairs are distinct, so slugs are too
            slug = f"{a.lower()}-{b.lower()}-{kind}"
            commissions.append(
                _Commission(
                    slug=slug,
                    stream=str(commission_id(slug)),
                    parties=(a, b),
                    hot=index == 0,
                    chairs={},
                    next_ordinal=rng.randint(1, 20),
                    keys=set(),
                )
            )
        return commissions

    def person(self, party: str, role: str | None = None) -> tuple[str, str]:
        men, women, surnames, rule = NAMES[COUNTRIES[party].names]
        surname = self.rng.choice(surnames)
        if self.rng.random() < 0.3:
            name = f"{self.rng.choice(women)} {_feminine(surname, rule)}"
        else:
            name = f"{self.rng.choice(men)} {surname}"
        role = role or self.rng.choice(CO_CHAIR_ROLES)
        return name, f"{role} of {COUNTRIES[party].formal}"

    def establish(self, commission: _Commission) -> Group:
        rng = self.rng
        today = self.today()
        slug, source = self.source(commission, today, "en")
        a, b = commission.parties
        kind = next(k for k in COMMISSION_KINDS if commission.slug.endswith(k[0]))
        name = kind[1].format(a=COUNTRIES[a].formal, b=COUNTRIES[b].formal)
        established_on = str(rng.randint(1993, 2018)) if rng.random() < 0.6 else None
        group: Group = [
            source,
            (
                "CommissionEstablished",
                commission.stream,
                T_ESTABLISHED,
                {
                    "slug": commission.slug,
                    "parties": [a, b],
                    "names": {"en": name[0].upper() + name[1:]},
                    "established_on": established_on,
                    "mandate": None,
                },
                commission.slug,
            ),
        ]
        people = {party: self.person(party) for party in commission.parties}
        quote = _fit_quote(
            f"The commission is co-chaired by {people[a][0]}, {people[a][1]}, and "
            f"{people[b][0]}, {people[b][1]}."
        )
        for party in commission.parties:
            person_name, title = people[party]
            commission.chairs[party] = (person_name, title)
            since = _partial(today - timedelta(days=rng.randint(30, 900)), "year")
            group.append(
                (
                    "CoChairAppointed",
                    commission.stream,
                    T_APPOINTED,
                    {
                        "party": party,
                        "name": person_name,
                        "title": title,
                        "since": since if rng.random() < 0.5 else None,
                        "evidence": [{"source": slug, "quote": quote}],
                    },
                    commission.slug,
                )
            )
        return group

    def rotation(self, commission: _Commission) -> Task:
        """Now and then a party's co-chair is replaced."""
        rng = self.rng
        while True:
            party = rng.choice(commission.parties)
            old_name, _ = commission.chairs[party]
            new_name, title = self.person(party)
            while new_name == old_name:
                new_name, title = self.person(party)
            month = _partial(self.today(), "month")
            slug, source = self.source(commission, self.today(), "en")
            said = _say_partial(month, "en")
            end_quote = _fit_quote(f"{old_name} served as co-chair of the commission until {said}.")
            start_quote = _fit_quote(
                f"{new_name}, {title}, was appointed co-chair of the commission in {said}."
            )
            commission.chairs[party] = (new_name, title)
            yield [
                source,
                (
                    "CoChairTenureEnded",
                    commission.stream,
                    T_TENURE_ENDED,
                    {
                        "party": party,
                        "name": old_name,
                        "until": month,
                        "evidence": [{"source": slug, "quote": end_quote}],
                    },
                    commission.slug,
                ),
                (
                    "CoChairAppointed",
                    commission.stream,
                    T_APPOINTED,
                    {
                        "party": party,
                        "name": new_name,
                        "title": title,
                        "since": month,
                        "evidence": [{"source": slug, "quote": start_quote}],
                    },
                    commission.slug,
                ),
            ]
            yield Sleep(self.later(400, 1500))

    # --- sessions -----------------------------------------------------------------------------

    def _key(self, commission: _Commission, kind: str, when: str) -> tuple[str, int | None]:
        if kind == "plenary":
            ordinal = commission.next_ordinal
            commission.next_ordinal += 1
            return str(ordinal), ordinal
        base = f"{when}-{kind}".lower().replace("_", "-")
        key, n = base, 1
        while key in commission.keys:
            n += 1
            key = f"{base}-{n}"
        commission.keys.add(key)
        return key, None

    @staticmethod
    def _name_of(kind: str, ordinal: int | None) -> str:
        """How sources refer to a session: "22nd meeting", "working group meeting"."""
        if ordinal is None:
            return kind.replace("_", " ").replace("co chairs", "co-chairs'") + (
                "" if kind == "co_chairs_meeting" else " meeting"
            )
        suffix = (
            "th"
            if 10 <= ordinal % 100 <= 20
            else {1: "st", 2: "nd", 3: "rd"}.get(ordinal % 10, "th")
        )
        return f"{ordinal}{suffix} meeting"

    def session(self, commission: _Commission) -> Task:
        """One session, from its scheduling to its last fact."""
        rng = self.rng
        hot = commission.hot
        kind = rng.choices(("plenary", "co_chairs_meeting", "working_group"), (55, 15, 30))[0]
        if hot:
            kind = rng.choices(("plenary", "working_group"), (70, 30))[0]
        stream = ""
        ordinal: int | None = None
        key = ""
        place: Data | None = None
        host = rng.choice(commission.parties)
        name = ""
        if not hot and rng.random() < 0.35:
            # announced first: scheduled, maybe postponed or cancelled, then convened
            today = self.today()
            target = min(today + timedelta(days=rng.randint(30, 180)), LATEST_DAY)
            planned = _partial(target, rng.choices(("day", "month", "quarter"), (25, 55, 20))[0])
            key, ordinal = self._key(commission, kind, planned)
            name = self._name_of(kind, ordinal)
            stream = str(session_id(commission.slug, key))
            place = {"city": rng.choice(COUNTRIES[host].cities), "country": host}
            slug, source = self.source(commission, today, "en")
            quote = _fit_quote(
                f"The {name} of the commission is planned for {_say_partial(planned, 'en')} "
                f"in {place['city']}."
            )
            yield [
                source,
                (
                    "SessionScheduled",
                    stream,
                    T_SCHEDULED,
                    {
                        "commission": commission.slug,
                        "key": key,
                        "ordinal": ordinal,
                        "kind": kind,
                        "planned": planned,
                        "place": place,
                        "evidence": [{"source": slug, "quote": quote}],
                    },
                    commission.slug,
                ),
            ]
            postponements = 0
            while True:
                yield Sleep(self.position_of(target + timedelta(days=rng.randint(0, 20))))
                roll = rng.random()
                if roll < 0.04:
                    return  # never heard of again
                if roll < 0.10:
                    slug, source = self.source(commission, self.today(), "en")
                    reason = rng.choice(CANCEL_REASONS)
                    quote = _fit_quote(f"The {name} of the commission was cancelled. {reason}")
                    yield [
                        source,
                        (
                            "SessionCancelled",
                            stream,
                            T_CANCELLED,
                            {
                                "reason": reason,
                                "evidence": [{"source": slug, "quote": quote}],
                            },
                            commission.slug,
                        ),
                    ]
                    return
                if roll < 0.25 and postponements < 2:
                    postponements += 1
                    today = self.today()
                    target = min(today + timedelta(days=rng.randint(30, 150)), LATEST_DAY)
                    planned = _partial(target, rng.choice(("month", "quarter")))
                    reason = rng.choice(POSTPONE_REASONS)
                    slug, source = self.source(commission, today, "en")
                    quote = _fit_quote(
                        f"The {name} of the commission has been postponed to "
                        f"{_say_partial(planned, 'en')}. {reason}"
                    )
                    yield [
                        source,
                        (
                            "SessionPostponed",
                            stream,
                            T_POSTPONED,
                            {
                                "reason": reason,
                                "planned": planned if rng.random() < 0.85 else None,
                                "evidence": [{"source": slug, "quote": quote}],
                            },
                            commission.slug,
                        ),
                    ]
                    continue
                break
        # convened
        today = self.today()
        start_day = today - timedelta(days=rng.randint(0, 12))
        precision = rng.choices(("day", "month", "year"), (85, 12, 3))[0]
        start = _partial(start_day, precision)
        end = None
        if precision == "day" and start_day < today and rng.random() < 0.3:
            end = (start_day + timedelta(days=1)).isoformat()
        if not stream:
            key, ordinal = self._key(commission, kind, start)
            name = self._name_of(kind, ordinal)
            stream = str(session_id(commission.slug, key))
        session_format = rng.choices(("in_person", "videoconference", "hybrid"), (80, 12, 8))[0]
        if session_format == "videoconference":
            place = None
        elif place is None or rng.random() < 0.1:
            place = {"city": rng.choice(COUNTRIES[host].cities), "country": host}
        a, b = commission.parties
        chairs = [
            {
                "party": party,
                "name": commission.chairs[party][0],
                "title": commission.chairs[party][1],
            }
            for party in commission.parties
        ]
        topics = rng.sample(TOPICS, rng.randint(1, 8))
        fields = [TOPIC_WORDS[t] for t in topics if t != "other"]
        summary = (
            f"The sides reviewed cooperation in {_enumerate(fields)}."
            if fields
            else "The sides reviewed the implementation of earlier decisions."
        )
        lang = self._language(commission)
        slug, source = self.source(commission, today, lang)
        when = _say_when(start, lang)
        where = f"in {place['city']}" if place else "by videoconference"
        held = {
            "en": f"The {name} of the Intergovernmental Commission between "
            f"{COUNTRIES[a].short} and {COUNTRIES[b].short} was held {where} {when}.",
            "ru": f"{when[0].upper()}{when[1:]} состоялось заседание межправительственной "
            "комиссии по экономическому сотрудничеству.",
            "fr": f"La réunion de la commission intergouvernementale s'est tenue {when}.",
        }[lang]
        evidence = [{"source": slug, "quote": _fit_quote(held)}]
        if lang == "en" and rng.random() < 0.5:
            evidence.append(
                {
                    "source": slug,
                    "quote": _fit_quote(
                        f"The meeting was co-chaired by {chairs[0]['name']}, {chairs[0]['title']}, "
                        f"and {chairs[1]['name']}, {chairs[1]['title']}."
                    ),
                }
            )
        yield [
            source,
            (
                "SessionConvened",
                stream,
                T_CONVENED,
                {
                    "commission": commission.slug,
                    "key": key,
                    "ordinal": ordinal,
                    "kind": kind,
                    "format": session_format,
                    "start": start,
                    "end": end,
                    "place": place,
                    "co_chairs": chairs,
                    "topics": topics,
                    "summary": summary,
                    "evidence": evidence,
                },
                commission.slug,
            ),
        ]
        self.session_samples[0 if hot else 1].offer((commission.slug, key), self.sample_rng)
        if rng.random() < 0.01:
            self._correct_session_later(commission, stream, summary)
        if rng.random() < 0.1:
            yield [self._declaration(commission, stream, slug, lang, start_day)]
        reference = (
            date(start_day.year, 1, 1)
            if precision == "year"
            else (date(start_day.year, start_day.month, 1) if precision == "month" else start_day)
        )
        if hot:
            count = rng.randint(80, 300)
        elif rng.random() < 0.12:
            count = 0
        else:
            count = min(200, int(rng.paretovariate(1.4) * 6))
        statistics = self.statistic_samples[0 if hot else 1]
        for _ in range(count):
            group = self._statistic(commission, stream, key, slug, lang, reference)
            yield group
            statistics.offer(group[1][1], self.sample_rng)  # written: its id may be sampled
        if (kind == "plenary" and rng.random() < 0.7) or rng.random() < 0.15:
            yield [self._protocol(commission, stream, slug, lang, start, chairs, name)]

    def _language(self, commission: _Commission) -> str:
        parties = set(commission.parties)
        if parties & FRENCH_SPEAKING and self.rng.random() < 0.4:
            return "fr"
        if parties & RUSSIAN_SPEAKING and self.rng.random() < 0.35:
            return "ru"
        return "en" if self.rng.random() < 0.9 else self.rng.choice(LANGUAGES)

    def _declaration(
        self, commission: _Commission, stream: str, slug: str, lang: str, before: date
    ) -> Event:
        rng = self.rng
        title = rng.choice(DECLARATIONS)
        dated = before - timedelta(days=rng.randint(60, 3000))
        dated_text = _partial(dated, rng.choices(("day", "month", "year"), (70, 20, 10))[0])
        quote = {
            "en": f"The sides noted the importance of the {title} of "
            f"{_say_partial(dated_text, 'en')}.",
            "ru": f"Стороны особо отметили значение документа, подписанного "
            f"{_say_partial(dated_text, 'ru')}.",
            "fr": f"Les parties ont souligné l'importance de la déclaration de "
            f"{_say_partial(dated_text, 'fr')}.",
        }[lang]
        return (
            "DeclarationReferenced",
            stream,
            T_DECLARATION,
            {
                "title": title,
                "dated": dated_text,
                "characterization": rng.choice((None, "particularly significant", "fundamental")),
                "evidence": [{"source": slug, "quote": _fit_quote(quote)}],
            },
            commission.slug,
        )

    def _protocol(
        self,
        commission: _Commission,
        stream: str,
        slug: str,
        lang: str,
        start: str,
        chairs: list[dict[str, str]],
        name: str,
    ) -> Event:
        quote = {
            "en": f"Following the {name}, {chairs[0]['name']} and {chairs[1]['name']} signed "
            "the protocol of the meeting.",
            "ru": "По итогам заседания сопредседатели комиссии подписали протокол.",
            "fr": "À l'issue de la réunion, les coprésidents ont signé le protocole.",
        }[lang]
        return (
            "ProtocolSigned",
            stream,
            T_PROTOCOL,
            {
                "title": None if self.rng.random() < 0.6 else f"Protocol of the {name}",
                "signed_on": start,
                "signatories": chairs,
                "evidence": [{"source": slug, "quote": _fit_quote(quote)}],
            },
            commission.slug,
        )

    def _period(self, reference: date) -> str:
        """A period that ended before the session (``reference`` is its first day)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.45 or reference.month < 3:
            return str(reference.year - rng.choice((1, 1, 1, 2)))
        if roll < 0.75:
            return f"{reference.year}-01/{reference.year}-{reference.month - 1:02d}"
        if roll < 0.9 and reference.month > 3:
            quarter = (reference.month - 1) // 3
            return f"{reference.year}-Q{quarter}"
        return f"{reference.year}-{reference.month - 1:02d}"

    def _value(self, measure: str, value_kind: str, unit: str, lang: str) -> tuple[str, str]:
        """A value and how the source says it."""
        rng = self.rng
        i = LANGUAGES.index(lang)
        if value_kind == "level":
            if unit == "USD":
                if measure in ("trade_turnover", "investment", "exports", "imports"):
                    hundredths = rng.randint(5, 4000)  # billions
                    number = _decimal_text(hundredths, 2)
                    words = ("billion US dollars", "млрд долларов США", "milliards de dollars")
                    return str(hundredths * 10**7), f"{_localised_number(number, lang)} {words[i]}"
                tenths = rng.randint(10, 9000)  # millions
                number = _decimal_text(tenths, 1)
                words = ("million US dollars", "млн долларов США", "millions de dollars")
                return str(tenths * 10**5), f"{_localised_number(number, lang)} {words[i]}"
            if unit == "tonne":
                tenths = rng.randint(1, 400)  # millions of tonnes
                number = _decimal_text(tenths, 1)
                words = ("million tonnes", "млн тонн", "millions de tonnes")
                return str(tenths * 10**5), f"{_localised_number(number, lang)} {words[i]}"
            thousands = rng.randint(2, 3000)
            words = ("thousand trips", "тыс. поездок", "mille voyages")
            return str(thousands * 1000), f"{thousands} {words[i]}"
        if value_kind == "change_pct":
            tenths = rng.randint(-400, 900) or 15
            number = _localised_number(_decimal_text(abs(tenths), 1), lang)
            if tenths > 0:
                said = (f"grew by {number} percent", f"рост на {number}%", f"hausse de {number} %")
            else:
                said = (
                    f"fell by {number} percent",
                    f"снижение на {number}%",
                    f"baisse de {number} %",
                )
            return _decimal_text(tenths, 1), said[i]
        if value_kind == "share_pct":
            tenths = rng.randint(20, 980)
            number = _localised_number(_decimal_text(tenths, 1), lang)
            said = (f"reached {number} percent", f"достигла {number}%", f"a atteint {number} %")
            return _decimal_text(tenths, 1), said[i]
        if value_kind == "rank":
            rank = rng.choices(range(1, 11), (8, 8, 7, 6, 5, 4, 3, 3, 2, 2))[0]
            said = (
                f"is the {ORDINALS_EN[rank]}largest trade partner",
                f"занимает {rank}-е место среди торговых партнёров",
                f"occupe la {rank}{'re' if rank == 1 else 'e'} place parmi les partenaires",
            )
            return str(rank), said[i]
        count = rng.randint(5, 400)
        return str(count), str(count)

    def _statistic(
        self,
        commission: _Commission,
        stream: str,
        key: str,
        slug: str,
        lang: str,
        reference: date,
    ) -> Group:
        rng = self.rng
        measure = rng.choices(MEASURE_NAMES, MEASURE_WEIGHTS)[0]
        labels, kinds, _ = MEASURES[measure]
        value_kind, unit, _ = rng.choices(kinds, tuple(k[2] for k in kinds))[0]
        value, said = self._value(measure, value_kind, unit, lang)
        qualifier = rng.choices(QUALIFIERS, QUALIFIER_WEIGHTS)[0]
        if value_kind in ("change_pct", "rank", "share_pct"):
            qualifier = "exact"  # "grew by about 5 percent" reads badly; keep these exact
        period = None if value_kind in ("rank", "count") else self._period(reference)
        reporter: str | None = None
        partner: str | None = None
        a, b = commission.parties if rng.random() < 0.5 else commission.parties[::-1]
        if measure in ("trade_turnover", "investment") or (
            measure not in ("agreements_signed", "settlement_share_national_currency")
            and rng.random() < 0.7
        ):
            reporter, partner = a, b
        i = LANGUAGES.index(lang)
        label = labels[i]
        words = QUALIFIER_WORDS[qualifier][i]
        when = f" {_say_period(period, lang)}" if period else ""
        if value_kind == "level":
            verb = ("amounted to", "составил", ":")[i]
            quote = f"{label}{when} {verb} {words}{said}."
        elif value_kind in ("change_pct", "share_pct"):
            sep = " " if lang == "en" or value_kind == "share_pct" else ": "
            quote = f"{label}{when}{sep}{words}{said}."
        elif value_kind == "rank":
            quote = (
                f"{COUNTRIES[b].short} {said} of {COUNTRIES[a].short}."
                if lang == "en"
                else f"{label}: {said}."
            )
            quote = quote[0].upper() + quote[1:]
        else:
            quote = (
                f"{words}{said} agreements have been signed between the two countries.",
                f"Количество подписанных между странами документов — {words}{said}.",
                f"Le nombre d'accords signés entre les deux pays s'élève à {words}{said}.",
            )[i]
            quote = quote[0].upper() + quote[1:]
        remarks = None
        if rng.random() < 0.3:
            remarks = rng.choice(
                (
                    "As stated by the co-chairs at the session.",
                    "Preliminary figure.",
                    "According to national statistics.",
                    "Figure given in the opening remarks.",
                )
            )
        statistic = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        data = {
            "statistic_id": statistic,
            "measure": measure,
            "value_kind": value_kind,
            "value": value,
            "unit": unit,
            "qualifier": qualifier,
            "reporter": reporter,
            "partner": partner,
            "period": period,
            "stated_by": rng.choice(commission.parties) if rng.random() < 0.3 else None,
            "remarks": remarks,
            "evidence": [{"source": slug, "quote": _fit_quote(quote)}],
        }
        roll = rng.random()
        if roll < 0.056:  # a few fall after the end of the log: ~5% are written
            self._correct_statistic_later(
                commission, stream, _Statistic(statistic, value_kind, value, slug)
            )
        elif roll < 0.0785:
            self._retract_statistic_later(commission, stream, statistic)
        return [
            ("StatisticReported", stream, T_REPORTED, data, commission.slug),
            (
                "StatisticLocated",
                statistic,
                T_LOCATED,
                {"commission": commission.slug, "session_key": key, "session_id": stream},
                commission.slug,
            ),
        ]

    # --- later corrections --------------------------------------------------------------------
    # A correction is queued when its statistic is built; it can only wake after the position
    # it is queued at, by which time the statistic (emitted in the same step) is in the log.
    # If the log ends before the statistic is written, the group did not fit and the log was
    # filled with sources: no later event is written at all.

    def _once(self, make: Callable[[], Group]) -> Task:
        yield make()

    def _correct_statistic_later(
        self, commission: _Commission, stream: str, statistic: _Statistic
    ) -> None:
        rng = self.rng

        def make() -> Group:
            new_value = self._corrected_value(statistic)
            reason = rng.choice(
                (
                    f"A later release gives {new_value} instead of {statistic.value}.",
                    "The national statistics office revised the figure.",
                    "The figure was misread from the source.",
                )
            )
            return [
                (
                    "StatisticCorrected",
                    stream,
                    T_STAT_CORRECTED,
                    {
                        "statistic_id": statistic.id,
                        "changes": {"value": new_value},
                        "reason": reason,
                        # A correction of a figure cites what gives it now.
                        "evidence": [
                            {
                                "source": statistic.source,
                                "quote": _fit_quote(f"The revised figure is {new_value}."),
                            }
                        ],
                    },
                    commission.slug,
                )
            ]

        self.sleep(self.later(20, 700), self._once(make))

    def _corrected_value(self, statistic: _Statistic) -> str:
        rng = self.rng
        kind, value = statistic.value_kind, statistic.value
        if kind == "level":
            old = int(value)
            new = old + max(1, old // 1000) * rng.choice((-1, 1)) * rng.randint(1, 50)
            return str(new if new > 0 else old + max(1, old // 100))
        if kind in ("change_pct", "share_pct"):
            tenths = round(float(value) * 10)
            new_tenths = tenths + rng.choice((-1, 1)) * rng.randint(1, 20)
            if kind == "share_pct":
                new_tenths = min(1000, max(0, new_tenths))
            else:
                new_tenths = max(-999, new_tenths)
            if new_tenths == tenths:
                new_tenths = tenths + (1 if tenths < 500 else -1)
            return _decimal_text(new_tenths, 1)
        old = int(value)
        if kind == "rank":
            return str(old + 1 if old == 1 or rng.random() < 0.5 else old - 1)
        return str(old + rng.randint(1, 20))

    def _retract_statistic_later(
        self, commission: _Commission, stream: str, statistic: str
    ) -> None:
        reason = self.rng.choice(RETRACT_REASONS)
        event: Event = (
            "StatisticRetracted",
            stream,
            T_RETRACTED,
            {"statistic_id": statistic, "reason": reason},
            commission.slug,
        )
        self.sleep(self.later(20, 700), self._once(lambda: [event]))

    def _correct_session_later(self, commission: _Commission, stream: str, summary: str) -> None:
        addition = self.rng.choice(SUMMARY_ADDITIONS)
        event: Event = (
            "SessionCorrected",
            stream,
            T_CORRECTED,
            {
                "changes": {"summary": f"{summary[:-1]}, and discussed {addition}."},
                "reason": f"The errata note adds {addition}.",
                "evidence": [],
            },
            commission.slug,
        )
        self.sleep(self.later(10, 400), self._once(lambda: [event]))

    # --- samples ------------------------------------------------------------------------------


def generate(
    path: Path, events: int = 1_000_000, seed: int = 7, hot_commission_events: int = 10_000
) -> Manifest:
    """Writes a log of exactly ``events`` events to ``path`` and its manifest beside it."""
    if events < 1:
        msg = "a log needs at least one event"
        raise ValueError(msg)
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        log = _Log(out, events, seed, hot_commission_events)
        log.run()
    established = [c for c in log.commissions if c.stream in log.versions]
    manifest = Manifest(
        events=log.position,
        commissions=tuple((c.slug, c.parties) for c in established),
        hot_commission=log.hot.slug,
        hot_commission_events=log.commission_counts[log.hot.slug],
        sample_sessions=_Reservoir.merged(*log.session_samples, SAMPLE_SESSIONS),
        sample_statistics=_Reservoir.merged(*log.statistic_samples, SAMPLE_STATISTICS),
        first_recorded_at=log.first_recorded_at,
        last_recorded_at=log.last_recorded_at,
        as_of_samples=tuple(log.as_of),
    )
    manifest_path = path.with_name(path.name + ".manifest.json")
    manifest_path.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hot-commission-events", type=int, default=10_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate(args.out, args.events, args.seed, args.hot_commission_events)
    seconds = time.perf_counter() - started
    print(
        f"wrote {manifest.events} events to {args.out} in {seconds:.1f}s: "
        f"{len(manifest.commissions)} commissions, hot {manifest.hot_commission} with "
        f"{manifest.hot_commission_events} events, "
        f"{manifest.first_recorded_at} .. {manifest.last_recorded_at}"
    )


if __name__ == "__main__":
    main()
