"""Mandarin as it is said: money, phone numbers, temperatures below zero, ranges, ordinals, per
mille, units and acronyms written out before wetext's grammar; the polyphones pypinyin reads
wrong are fixed by word where misaki looks them up (jieba's words, pypinyin's phrase table), in
engines/mandarin_polyphones.py, taught when the normaliser is made."""

from __future__ import annotations

import functools
import re
from typing import Any

from sayfile.engines.mandarin_polyphones import mandarin_tokenizer
from sayfile.text.abbreviations import MODEL_SERIES
from sayfile.text.addresses import ADDRESS, AddressWords
from sayfile.text.clock_times_zh import hours_said
from sayfile.text.digits_zh import digit_by_digit
from sayfile.text.measures_zh import measures_said
from sayfile.text.normalisation_grammar import Normaliser, through_grammar, wetext_grammar
from sayfile.text.normalisation_zh_hant import taiwan_and_hong_kong_forms
from sayfile.text.product_versions import versions_said
from sayfile.text.telephone_numbers_zh import (
    emergency_numbers_said,
    read_out_numbers_said,
    telephone_numbers_said,
)
from sayfile.text.years_zh import years_said


def mandarin_normaliser(language: str) -> Normaliser:
    """The normaliser of Mandarin (`language` zh or cmn, with any region)."""
    mandarin_tokenizer()
    return functools.partial(_say_mandarin, wetext_grammar("zh"))


# All-capital words said as words, not letter by letter.
_SAID_AS_WORDS = frozenset(
    {"NASA", "COVID", "OPEC", "UNESCO", "UNICEF", "WIFI", "LOL", "OK", "TOP"}
)
_CURRENCY_ZH = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
# Currency codes before an amount that wetext misreads (RMB 500: R M B 五百; EUR 50:
# 五十欧元成员国), as they are said: the word before the amount, the unit after it (USD, HKD,
# GBP and JPY wetext reads right).
_CURRENCY_CODES_ZH = {"RMB": ("人民币", "元"), "CNY": ("人民币", "元"), "EUR": ("", "欧元")}

_NUMBER = r"\d+(?:\.\d+)?"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_ZH_MONEY_CODE = re.compile(
    r"(?<![A-Za-z])(?P<code>" + "|".join(_CURRENCY_CODES_ZH) + r")\s?"
    rf"(?P<num>{_GROUPED}|{_NUMBER})\s*(?P<scale>[万亿])?(?:元|欧元)?"
)
# An amount of money per something (¥99/月, $5/次): 每月九十九元, as wetext says 9.9元/斤 itself;
# with the symbol, the amount was said before and the slash was left.
_ZH_MONEY_PER = re.compile(
    rf"(?P<money>[¥￥$€£]\s*(?:{_GROUPED}|{_NUMBER})\s*[万亿]?(?:元|美元|欧元)?)\s?/\s?"
    r"(?P<per>[月年天日周次人件个斤台晚小时位份张本]|小时|分钟|平米|平方米)"
)
_ZH_MONEY = re.compile(
    rf"(?P<sym>[¥￥$€£])\s*(?P<num>{_GROUPED}|{_NUMBER})\s*(?P<scale>[万亿])?(?P<name>元|美元|欧元)?"
)
# An amount before the currency's name, with no symbol (12.50元, 30.00美元, 2.50万元); not
# before a word that starts with 元 (元素, 元旦, 元音...).
_ZH_NAMED_AMOUNT = re.compile(
    rf"(?<![\d.,])(?P<num>{_GROUPED}|{_NUMBER})"
    r"(?=\s*[万亿]?\s*(?:元(?![素旦宵首件音气老帅月朝代年数])|块|美元|欧元|英镑|日元|港元|港币))"
)
_ZH_GROUPED = re.compile(_GROUPED)
_ZH_BELOW_ZERO = re.compile(rf"[-−－]\s*(?P<num>{_NUMBER})\s*(?P<unit>℃|°C|°|摄氏度|度)")
_ZH_MINUS = re.compile(rf"(?<![\w.])[−－](?={_NUMBER})")
# A range: with a dash or a tilde; a percent sign after its end counts for both ends (5~10%
# is 百分之五到百分之十).
_ZH_RANGE = re.compile(rf"(?P<a>{_NUMBER})(?P<pa>%?)\s*[–—~～〜]\s*(?P<b>{_NUMBER})(?P<pb>%?)")
# A tilde before a number that is not a range's (~30%): about, 约 (unless 约 is written).
_ZH_ABOUT = re.compile(r"(?<![\d%约])[~～]\s?(?=\d)")
# A range with a hyphen (1-2次, 5-10%): two numbers of up to three digits, the first the
# smaller, not in a date, a time, a sum (5-3=2) or a longer chain; 4-digit years (2022-2023)
# wetext reads itself. Otherwise wetext says 减 (minus): 一减二次.
_ZH_HYPHEN_RANGE = re.compile(
    r"(?<![\d.\-/:])(?P<a>\d{1,3}(?:\.\d+)?)(?P<pa>%?)\s*-\s*(?P<b>\d{1,3}(?:\.\d+)?)(?P<pb>%?)"
    r"(?![\d.\-/:])(?!\s*[=＝+＋*×÷])"
)
# A product of two numbers (7×24小时, 3x4米): wetext reads 7×24 as 七乘二四.
_ZH_TIMES = re.compile(r"(?<=\d)\s*[×xX*＊]\s*(?=\d)")
# A whole number and a plus after it (10万+, 100+条): "more than", 多; the sign was silent.
# Not a version (3.11+).
_ZH_MORE_THAN = re.compile(r"(?<![\d.])(?P<n>\d+[万亿]?)\s*[+＋](?![\d+＋])")
# A lone 2 counting with these measure words is 两, as wetext already says for 个, 天, 位...
# (2室2厅 两室两厅; not 2年级, 2年代, 2下午, nor mathematics' 二次方, 二次函数 and 二次元;
# 2楼, 2号, 2班 are numbered, not counted, and stay 二).
_ZH_TWO_OF = re.compile(
    r"(?<![\d.,:/\-])2(?![\d.,:/])(?=次(?![方元函曲幂根型])|种|遍|公斤|点|台|份|星期|部|句|步|门|所|栋|间|节|届|章|行|处"
    r"|项|笔|批|声|下(?!午)|成|折|角|毛|亩|倍|轮|局|幅|年(?!级|代)|室|厅|卫(?![生星视])|\s?(?:[GMKT]B|兆|kg|KG|㎏)(?![A-Za-z]))"
)
# wetext says 第两名 for 第2名; an ordinal is counted, 第二.
_ZH_ORDINAL = re.compile(r"第(?P<num>\d+)(?![\d.:/])")
_ZH_PER_MILLE = re.compile(rf"(?P<num>{_NUMBER})\s*‰")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# Numbers that name rather than count, said digit by digit (一 for 1, as on a screen or a
# door): a postcode; a room (302室, 房间1208); a video resolution (1080P); a protection rating
# (IP68 六八); a model, flight or standard, capitals then three digits or more (MU5735,
# RTX4090, GB18030; not TOP100 nor an amount after a currency's code, RMB100), or a model after
# its series and a space (RTX 4090), a mask's standard (N95, KN95); a generation (90后, 00后).
# wetext read them as amounts: 一千零八十P, M U五千七百三十五, 九十五后.
_ZH_BY_DIGIT = re.compile(
    r"(?:邮编|邮政编码)[:：]?\s*\d{6}(?!\d)"
    r"|(?<![\d.])\d{3,4}(?=室|号房|房间)"
    r"|(?:房间|房号)\s*\d{3,4}(?![\d.])"
    r"|(?<![\d.])(?:480|720|1080|1440|2160)(?=[Pp](?![A-Za-z]))|(?<=IP)\d\d(?![\d.])"
    r"|(?<=[A-Z])(?<!TOP|RMB|CNY|USD|EUR|HKD|JPY|GBP)\d{3,}(?![\d.])"
    r"|(?<![\d.])\d[05](?=后)|(?<=N)95(?![\d.])"
    r"|(?:" + "|".join(f"(?<={series} )" for series in MODEL_SERIES) + r")\d{3,4}(?![\d.])"
)
# Numbers that name a day, a show, a school tier, a work schedule or an error, before the words
# that show it (or after a shop's name or a year), said digit by digit as people say them: 618大促
# 六一八, 315晚会 三一五, 520表白, 996工作制, 985高校, 211大学 二一一, 404错误, 5.1劳动节 五一;
# years of the era (公元前221年 二二一, as 1998年 is said); a discount's tenths (7.5折 七五折);
# an official document's year and serial (国发〔2023〕1号 二零二三, 第2023001号), a draw's or an
# issue's (双色球第2024143期); Taipei 101; an HTTP status (HTTP 404 四零四).
# wetext read them as amounts and decimals, 211 as 两百一十一. (双11 wetext says 双十一 itself;
# 共618人 stays an amount.)
_ZH_NAMED_NUMBERS = re.compile(
    r"(?<![\d.])(?:"
    r"618(?=\s?(?:大促|购物节|年中|狂欢|活动|期间|当天|预售|促销|优惠|电商|抢购|囤货))"
    r"|(?<=京东|天猫|淘宝|苏宁|今年|去年|明年)618(?![\d.]|\s?[元块人个次件分号%])"
    r"|(?:315|3\.15)(?=\s?(?:晚会|消费者|打假))"
    r"|52[01](?=\s?(?:表白|情人节|这天|当天))"
    r"|(?:996|955|007)(?=\s?(?:工作制|模式|加班|福报|作息))"
    r"|(?:985|211)(?=\s?(?:高校|大学|院校|工程|名校|学校|学历|毕业))"
    r"|(?:985|211)(?=\s?[、/和或与]\s?(?:985|211))|(?<=985[、/和或与]|211[、/和或与])(?:985|211)"
    r"|404(?=\s?(?:错误|页面|报错|[Nn]ot))"
    r"|5\.1(?=\s?(?:劳动节|假期|小长假|黄金周|放假))"
    r"|(?:(?<=公元前)|(?<=公元))\d{1,4}(?=年)"
    r"|(?<=〔)\d{4}(?=〕)|(?<=第)\d{5,}(?=号|期)"
    r"|(?<=台北)101|(?<=臺北)101|(?:(?<=HTTP)|(?<=HTTP ))[1-5]\d\d"
    r"|\d\.\d(?=折)"
    r")(?![\d.])"
)
# Pay, before which the web writes ten thousands as w and thousands as k (月薪2w, 工资8k).
_PAY = "月薪|年薪|工资|底薪|奖金|薪资|薪水|税前|税后|工資|薪資|獎金|稅前|稅後"
# Ten thousands written w (阅读10w+, 粉丝3.5w, 月薪2w), as the web writes 万, after the counts
# and pay it is written for (65w快充 is watts), with a plus (10w+) or before what it counts
# (3w台): wetext left the letter.
_COUNTS = (
    r"(?<=阅读|播放|浏览|点赞|收藏|转发|评论|粉丝|销量|下载|关注|订阅|身价"
    r"|閱讀|瀏覽|點讚|點贊|轉發|評論|粉絲|銷量|下載|關注|訂閱|身價|" + _PAY + r")"
    r"|(?<=阅读量|播放量|浏览量|点赞数|收藏数|转发数|评论数|粉丝数|下载量|订阅数"
    r"|閱讀量|瀏覽量|點讚數|轉發數|評論數|粉絲數|下載量|訂閱數)"
)
_ZH_W_TEN_THOUSANDS = re.compile(
    r"(?:" + _COUNTS + r")"
    r"(?P<lead>(?:超过|突破|达到|已|近|破|超|过)?\s?)(?P<n>\d+(?:\.\d+)?)[wW](?![A-Za-z])"
    r"|(?<![0-9A-Za-z.])(?P<plus>\d+(?:\.\d+)?)(?:[wW](?=\+)|w(?=[人元块字次个件台条份家辆单篇]))"
)
# Thousands written k after pay and the same counts (工资8k, 月薪12k, 点赞1.2k): the amount,
# where wetext left the letter (3k字 it reads itself; 8K分辨率 is a resolution).
_ZH_K_THOUSANDS = re.compile(
    r"(?:" + _COUNTS + r"|(?<=年终奖|年終獎))"
    r"(?P<lead>(?:超过|突破|达到|只有|才|有|已|近|破|超|过)?\s?)(?P<n>\d+(?:\.\d+)?)[kK](?![A-Za-z])"
)
# A clock time with seconds on the hour (下午2:00:30, 2:00:30 PM): 两点零分三十秒, where wetext
# dropped the minutes (两点三十秒); AM or PM after it is said before it (上午, 下午), as wetext
# says it on other times.
_ZH_ON_THE_HOUR = re.compile(
    r"(?<![\d:])(?P<h>[01]?\d|2[0-3]):00:(?P<s>[0-5]\d)(?![\d:])"
    r"(?:\s?(?P<half>[AaPp])(?:\.[Mm]\.|[Mm])(?![A-Za-z]))?"
)
# Days of the week as a range (周一~周五, 星期一-星期五): 至, where the tilde was left.
_ZH_WEEKDAYS = re.compile(
    r"(?:(?<=[周週][一二三四五六日天])|(?<=星期[一二三四五六日天]))\s?[~～\-–—]\s?(?=[周週]|星期)"
)
# Watts after a number (65W快充, 100W, 20w充电器): 瓦, where the letter was said; W before a
# plus, or w before what it counts, is ten thousands (_ZH_W_TEN_THOUSANDS, before this).
_ZH_WATTS = re.compile(
    r"(?<=\d)\s?(?:W(?![A-Za-z0-9+])|w(?=\s?(?:快充|闪充|閃充|充电|充電|功率|电源|電源|适配器|適配器|超级快充)))"
)
# Blood pressure (血压120/80): 高压一百二十，低压八十, as a doctor says it, where wetext read a
# fraction (八十分之一百二十); said so, Whisper base heard it (and 血压) right.
_ZH_BLOOD_PRESSURE = re.compile(
    r"(?<=血压)(?P<lead>[是为:：]?\s?)(?P<a>\d{2,3})/(?P<b>\d{2,3})(?![\d/])"
)
# A day named by month and day with a middle dot (9·11事件, 5·12地震, 3·15晚会, 12·9运动): its
# digits one by one, 九一一, as the day is named; wetext read 九·十一.
# October the first (10·1) is 十一, as the holiday is named.
_ZH_DOTTED_DAY = re.compile(
    r"(?<![\d.])(?P<month>1[0-2]|[1-9])\s?[·•・]\s?(?P<day>[1-3]?\d)(?![\d.])"
)
# A unit or a building numbered 2 in an address (2单元, 2栋3单元) is 二, not 两 as wetext and
# the counting rule below say for 2单 and 2栋 (两栋楼).
_ZH_NUMBERED_TWO = re.compile(r"(?<![\d.,])2(?=\s?(?:单元|[栋幢]\s?\d))")
# A hyphen between a name and its number (COVID-19, GPT-4, USB-3) is no minus sign: wetext
# said 负十九.
_ZH_NAME_HYPHEN = re.compile(r"(?<=[A-Za-z])\s?-\s?(?=\d)")
# A score (比分3-2, 以3-1获胜): 比, where wetext said 减 (可以3-5天 stays a range); its numbers
# read here, since wetext reads 110, 112, 119 and 120 as the emergency numbers (幺幺二).
_ZH_SCORE = re.compile(
    r"(?<=比分)\s*(?P<a>\d{1,3})\s?[-:：]\s?(?P<b>\d{1,3})(?![\d.])"
    r"|(?<![\d.\-])(?P<c>\d{1,3})\s?-\s?(?P<d>\d{1,3})(?=\s?(?:获胜|取胜|战胜|击败|胜|负于|告负|落败|输给|赢|逆转|的比分))"
)
# A rating out of a scale (评分4.8/5分, 豆瓣评分8.9/10, 4.5/5星): 四点八分，满分五分, where
# wetext read a fraction (五分之四点八分); a decimal, after a word that rates or before 分 or 星.
_ZH_RATING = re.compile(
    r"(?:(?<=评分|得分|打分|评价|評分|評價|口碑|星级|星級)|(?<=评分：|评分:|評分：|評分:))\s?"
    r"(?P<a>\d{1,2}\.\d)\s?/\s?(?P<b>5|10|100)(?P<unit>分|星)?(?![\d./])"
    r"|(?<![\d./])(?P<c>\d{1,2}\.\d)\s?/\s?(?P<d>5|10|100)(?P<u>分|星)(?![\d./])"
)
# A time taken (用时25:30, 成绩2:05:30): minutes and seconds, hours before them, where wetext
# read a ratio (二十五比三十).
_ZH_TIME_TAKEN = re.compile(
    r"(?<=用时|耗时|时长|成绩|历时|全程|配速|用時|耗時|時長|成績|歷時)(?P<lead>[为是:：]?\s?)"
    r"(?:(?P<h>\d{1,2}):)?(?P<m>[0-5]?\d):(?P<s>[0-5]\d)(?![\d:.])"
)
# A plus between two amounts or sizes (16GB+512GB, 2+3): 加, where wetext said 正.
_ZH_PLUS = re.compile(r"(?<=[0-9A-Za-z])\s?\+\s?(?=\d)")
# A power (10^8): 十的八次方, where wetext said 十^八.
_ZH_POWER = re.compile(r"(?<![\d.])(?P<a>\d+)\^(?P<b>\d+)(?![\d.])")
# Below zero at a range's start, the unit after its end (-5~3℃): 零下五到三摄氏度 (was 负五).
_ZH_BELOW_ZERO_FROM = re.compile(
    rf"(?<![\dA-Za-z.])[-−－]\s*(?P<num>{_NUMBER})\s*[~～〜到至](?=\s*[-−－]?\s*{_NUMBER}\s*(?:℃|°C|°|摄氏度|度))"
)
# An e-mail or web address: its dots 点, its @ 艾特 and its slashes 斜杠, as Chinese speakers
# read one out (wetext and the voice left it as written, dots unsaid); www letter by letter.
_ZH_ADDRESS = AddressWords(at="艾特", dot="点", slash="斜杠", www="W W W")
# A number with two dots or more that is no date (v1.2.3, 192.168.1.1): its parts with 点
# between, read as a decimal's digits after the first (wetext said v一.二点三); an address of
# four parts digit by digit, as it is read out.
_ZH_DOTTED = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d+){2,}(?![\d.])")
# A fraction after 约 (about), which wetext read 三分之约一 for 约1/3; elsewhere wetext tells a
# fraction (3/4的人) from a date (12/25) itself.
# Full-width digits, letters and per cent, as Chinese input methods type them (３．１４,
# ＧＰＴ４, ５０％), read as their ASCII forms are; the full-width full stop only between digits
# is a decimal point (elsewhere it ends a sentence, as 。 does).
_ZH_FULL_WIDTH = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B)]}
    | {chr(code): chr(code - 0xFEE0) for code in range(0xFF41, 0xFF5B)}
    | {"％": "%"}
)
_ZH_FULL_WIDTH_POINT = re.compile(r"(?<=[0-9])．(?=[0-9])")
_ZH_ABOUT_FRACTION = re.compile(r"(?<=约)(?P<a>\d{1,3})/(?P<b>\d{1,3})(?![\d/.])")


def _numerals(number: str) -> str:
    """A number written in digits (no separators) in Chinese numerals, as it is read."""
    import cn2an

    whole, _, fraction = number.partition(".")
    said = str(cn2an.an2cn(whole)) if whole else "零"
    if said[:2] in ("二千", "二万", "二亿"):
        said = "两" + said[1:]  # as people say 2,000 (两千), not as they count (二)
    if fraction:
        said += "点" + digit_by_digit(fraction)
    return said


def _zh_money(found: re.Match[str]) -> str:
    number = _without_cents_zeros(found["num"].replace(",", ""))
    name = found["name"] or _CURRENCY_ZH[found["sym"]]
    # Two of a currency is 两 (两元, 两万元), as for every counted thing.
    said = "两" if number == "2" else _numerals(number)
    return said + (found["scale"] or "") + name


def _zh_money_code(found: re.Match[str]) -> str:
    before, unit = _CURRENCY_CODES_ZH[found["code"]]
    number = _without_cents_zeros(found["num"].replace(",", ""))
    said = "两" if number == "2" else _numerals(number)
    return before + said + (found["scale"] or "") + unit


def _zh_time_taken(found: re.Match[str]) -> str:
    """Hours, minutes and seconds as said: minutes alone as 分钟 (3:00 三分钟), no seconds
    that are 0 (1:30:00 一小时三十分钟), 零 for minutes that are (1:00:03 一小时零三秒)."""
    hours, minutes, seconds = found["h"], int(found["m"]), int(found["s"])
    said = ("两" if hours == "2" else _numerals(hours)) + "小时" if hours else ""
    if minutes or not hours:
        said += _numerals(str(minutes)) + ("分" if seconds else "分钟")
    elif seconds:
        said += "零"
    if seconds:
        said += _numerals(str(seconds)) + "秒"
    return found["lead"] + said


def _zh_rating(found: re.Match[str]) -> str:
    unit = found["unit"] or found["u"] or "分"
    return f"{found['a'] or found['c']}{unit}，满分{found['b'] or found['d']}{unit}"


def _zh_on_the_hour(found: re.Match[str]) -> str:
    half = found["half"]
    if half and not 1 <= int(found["h"]) <= 12:
        return found.group()
    hour = "两" if found["h"].lstrip("0") == "2" else _numerals(found["h"].lstrip("0") or "0")
    seconds = int(found["s"])
    said = hour + "点" + (f"零分{_numerals(str(seconds))}秒" if seconds else "")
    if half:
        said = ("上午" if half.lower() == "a" else "下午") + said
    return said


def _without_cents_zeros(amount: str) -> str:
    """An amount of money as it is said: 12.50 as 12.5, 30.00 as 30."""
    return amount.rstrip("0").rstrip(".") if "." in amount else amount


def _zh_range(found: re.Match[str]) -> str:
    percent = found["pa"] or found["pb"]
    return f"{found['a']}{percent}到{found['b']}{found['pb']}"


def _zh_by_digit(found: re.Match[str]) -> str:
    """The found text with each of its digits said alone (the words before them kept)."""
    return digit_by_digit(found.group())


def _zh_dotted(found: re.Match[str]) -> str:
    parts = found.group().split(".")
    if len(parts) == 4:
        return "点".join(digit_by_digit(part) for part in parts)
    # The parts after the first digit by digit, as a decimal's are (3.11.4: 三点一一点四).
    return "点".join([_numerals(parts[0]), *(digit_by_digit(part) for part in parts[1:])])


def _zh_dotted_day(found: re.Match[str]) -> str:
    month, day = found["month"], found["day"]
    return "十一" if (month, day) == ("10", "1") else digit_by_digit(month + day)


def _zh_latin(found: re.Match[str]) -> str:
    word = found.group()
    if word.isupper() and len(word) > 1 and word not in _SAID_AS_WORDS:
        # Acronyms letter by letter (PPT, AI, USB), as Chinese speakers say them.
        return " ".join(word)
    return word


def _say_mandarin(wetext: Any, text: str) -> str:
    text = _ZH_FULL_WIDTH_POINT.sub(".", text.translate(_ZH_FULL_WIDTH))
    text = versions_said(taiwan_and_hong_kong_forms(text), "、", "或")
    text = ADDRESS.sub(_ZH_ADDRESS.said, text)
    text = read_out_numbers_said(telephone_numbers_said(text))
    text = _ZH_W_TEN_THOUSANDS.sub(
        lambda f: f"{f['lead']}{f['n']}万" if f["n"] else f"{f['plus']}万", text
    )
    text = _ZH_WATTS.sub("瓦", text)
    text = _ZH_DOTTED.sub(_zh_dotted, text)
    text = _ZH_BY_DIGIT.sub(_zh_by_digit, text)
    text = _ZH_NAMED_NUMBERS.sub(lambda f: digit_by_digit(f.group().replace(".", "")), text)
    text = _ZH_DOTTED_DAY.sub(_zh_dotted_day, text)
    text = _ZH_BLOOD_PRESSURE.sub(
        lambda f: f"{f['lead']}高压{_numerals(f['a'])}，低压{_numerals(f['b'])}", text
    )
    text = _ZH_TIME_TAKEN.sub(_zh_time_taken, text)
    text = hours_said(_ZH_ON_THE_HOUR.sub(_zh_on_the_hour, text))
    text = _ZH_WEEKDAYS.sub("至", text)
    text = _ZH_K_THOUSANDS.sub(lambda f: f"{f['lead']}{round(float(f['n']) * 1000)}", text)
    text = _ZH_PLUS.sub("加", text)
    text = _ZH_NUMBERED_TWO.sub("二", text)
    text = _ZH_NAME_HYPHEN.sub(" ", text)
    text = _ZH_RATING.sub(_zh_rating, text)
    text = _ZH_SCORE.sub(
        lambda f: _numerals(f["a"] or f["c"]) + "比" + _numerals(f["b"] or f["d"]), text
    )
    text = _ZH_MONEY_PER.sub(lambda f: f"每{f['per']}{f['money']}", text)
    text = _ZH_MONEY.sub(_zh_money, text)
    text = _ZH_MONEY_CODE.sub(_zh_money_code, text)
    text = _ZH_NAMED_AMOUNT.sub(lambda found: _without_cents_zeros(found["num"]), text)
    text = _ZH_GROUPED.sub(lambda found: found.group().replace(",", ""), text)
    text = _ZH_BELOW_ZERO_FROM.sub(lambda f: "零下" + _numerals(f["num"]) + "到", text)
    text = _ZH_BELOW_ZERO.sub(
        lambda f: "零下" + _numerals(f["num"]) + ("度" if f["unit"] == "度" else "摄氏度"), text
    )
    text = _ZH_MINUS.sub("-", text)
    text = years_said(text)
    text = _ZH_RANGE.sub(_zh_range, text)
    text = _ZH_ABOUT.sub("约", text)
    text = _ZH_ABOUT_FRACTION.sub(lambda f: _numerals(f["b"]) + "分之" + _numerals(f["a"]), text)
    text = _ZH_HYPHEN_RANGE.sub(
        lambda f: _zh_range(f) if float(f["a"]) < float(f["b"]) else f.group(), text
    )
    text = _ZH_ORDINAL.sub(lambda f: "第" + _numerals(f["num"]), text)
    text = _ZH_TWO_OF.sub("两", text)
    text = _ZH_POWER.sub(lambda f: _numerals(f["a"]) + "的" + _numerals(f["b"]) + "次方", text)
    text = _ZH_TIMES.sub("乘", text)
    text = _ZH_MORE_THAN.sub(r"\g<n>多", text)
    text = _ZH_PER_MILLE.sub(lambda f: "千分之" + _numerals(f["num"]), text)
    text = emergency_numbers_said(measures_said(text))
    text = through_grammar(wetext, text)
    return _LATIN_WORD.sub(_zh_latin, text)
