"""What each language's normaliser has the voices say for text as people write it: a table of
everyday strings (money, temperatures, dates, times, phone numbers, units, abbreviations,
acronyms) and the words a listener should hear; the polyphones misaki reads; and the
pipeline handing an engine the words as said while the timings keep them as written."""

from __future__ import annotations

import asyncio
import re
import statistics
from pathlib import Path

import pytest

from conftest import Speech
from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.audio.formats import Samples, audio_format
from sayfile.engines.mandarin_polyphones import mandarin_tokenizer
from sayfile.engines.tone import ToneEngine
from sayfile.models import Quality, Voice
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Lane, SentenceExecutor
from sayfile.speech.synthesizer import SpeechResult, Synthesizer
from sayfile.text.normalisation import Normalisation
from sayfile.voices.catalogue import Catalogue

MANDARIN = [
    # money: separators, symbols, 万/亿
    ("这台电脑售价¥1,299.50。", "这台电脑售价一千二百九十九点五元。"),
    ("这款手机只要¥2,499。", "这款手机只要两千四百九十九元。"),
    ("房租每月￥3,500元。", "房租每月三千五百元。"),
    ("他欠了我$1,000。", "他欠了我一千美元。"),
    ("机票€89.90一张。", "机票八十九点九欧元一张。"),
    ("公司估值2.5亿元。", "公司估值二点五亿元。"),
    ("奖金是¥5万。", "奖金是五万元。"),
    ("一共1,299元。", "一共一千二百九十九元。"),
    # the amount before the currency's name, as with the symbol: no cents' zeros, 两 for two
    ("价格是12.50元。", "价格是十二点五元。"),
    ("一共1,299.50元。", "一共一千二百九十九点五元。"),
    ("一张票30.00美元。", "一张票三十美元。"),
    ("共计100.00元整。", "共计一百元整。"),
    ("只花了¥2。", "只花了两元。"),
    ("奖金是¥2万。", "奖金是两万元。"),
    ("周期表的2.10元素。", "周期表的二点一零元素。"),
    # below zero, negative numbers
    ("北京今天最低气温-5℃。", "北京今天最低气温零下五摄氏度。"),
    ("夜里降到−12°C。", "夜里降到零下十二摄氏度。"),
    ("哈尔滨-20度。", "哈尔滨零下二十度。"),
    ("账户余额是-3。", "账户余额是负三。"),
    # percent, per-mille, ranges
    ("转化率是12.5%。", "转化率是百分之十二点五。"),
    ("误差不超过3‰。", "误差不超过千分之三。"),
    ("快递3–5天送到。", "快递三到五天送到。"),
    ("每天工作8~10小时。", "每天工作八到十小时。"),
    ("大概3-5天。", "大概三到五天。"),
    ("每周1-2次。", "每周一到两次。"),
    ("有5-10%的人。", "有百分之五到百分之十的人。"),
    ("约3~5%。", "约百分之三到百分之五。"),
    ("占50%-60%。", "占百分之五十到百分之六十。"),
    ("请读第1-3章。", "请读第一到三章。"),
    ("5-3=2。", "五减三等于二。"),
    # products and "more than"
    ("7×24小时服务。", "七乘二十四小时服务。"),
    ("尺寸是3x4米。", "尺寸是三乘四米。"),
    ("阅读量10万+。", "阅读量十万多。"),
    ("有100+条评论。", "有一百多条评论。"),
    ("1+1=2。", "一加一等于二。"),
    ("有~30%的人同意。", "有约百分之三十的人同意。"),
    # dates and times
    ("会议定在2026-12-04。", "会议定在二零二六年十二月四日。"),
    ("截止日期是2026/12/4。", "截止日期是二零二六年十二月四日。"),
    ("我12月4日出发。", "我十二月四日出发。"),
    ("火车15:30开。", "火车十五点三十分开。"),
    ("我们下午3点半见。", "我们下午三点半见。"),
    ("我们下午2点见。", "我们下午两点见。"),
    ("2026年12月4日上午9:00开会。", "二零二六年十二月四日上午九点开会。"),
    # phone numbers, grouped, 幺 for 1
    ("请拨打13812345678。", "请拨打幺三八，幺二三四，五六七八。"),
    ("我的手机是+86 139 1234 5678。", "我的手机是幺三九，幺二三四，五六七八。"),
    ("办公室电话010-62345678。", "办公室电话零幺零，六二三四，五六七八。"),
    ("客服热线400-800-1234。", "客服热线四零零，八零零，幺二三四。"),
    # with a country code: 加 for the plus (wetext: 正), each group as written (wetext: 减 for
    # each dash, the groups as amounts); a long group as a local number
    ("请拨打+1 415 555 0100联系。", "请拨打加幺，四幺五，五五五，零幺零零，联系。"),
    ("香港号码+852-2345-6789。", "香港号码加八五二，二三四五，六七八九。"),
    ("总机+86-10-62345678", "总机加八六，幺零，六二三四，五六七八"),
    ("免费电话+1-800-555-0199", "免费电话加幺，八零零，五五五，零幺九九"),
    ("打13812345678找我", "打幺三八，幺二三四，五六七八，找我"),
    # ordinals, fractions, units
    ("他跑了第3名。", "他跑了第三名。"),
    ("他得了第2名。", "他得了第二名。"),
    # a lone 2 that counts is 两, one that numbers is 二
    ("价格涨了2倍。", "价格涨了两倍。"),
    ("他有2年经验，读2年级。", "他有两年经验，读二年级。"),
    ("我去过2次，住在2楼。", "我去过两次，住在二楼。"),
    ("2的2次方是4。", "二的二次方是四。"),
    ("内存至少2 GB，袋子重2kg。", "内存至少两G，袋子重两公斤。"),
    ("2G网络很慢。", "二G网络很慢。"),
    ("3/4的人同意。", "四分之三的人同意。"),
    ("这袋米5kg。", "这袋米五公斤。"),
    ("这台冰箱重65kg。", "这台冰箱重六十五公斤。"),
    ("限速120km/h。", "限速每小时一百二十公里。"),
    ("这套房子89㎡。", "这套房子八十九平方米。"),
    ("手机内存256GB。", "手机内存两百五十六G。"),
    ("电池容量5000mAh。", "电池容量五千毫安时。"),
    # numbers that name, digit by digit: a postcode, a room, a resolution, a model or a
    # flight, a generation (wetext: 十万零八十, 三百零二, 一千零八十P, 五千七百三十五, 九十五后)
    ("邮编100080。", "邮编一零零零八零。"),
    ("他住在302室，房间1208也空着。", "他住在三零二室，房间一二零八也空着。"),
    ("支持1080P和720p。", "支持一零八零P和七二零p。"),
    ("MU5735航班用的是RTX4090吗？", "M U五七三五航班用的是R T X四零九零吗？"),
    ("他是95后，她是00后。", "他是九五后，她是零零后。"),
    ("TOP100榜单，RMB100元。", "TOP一百榜单，人民币一百元。"),
    # a name's hyphen is no minus; a score is 比; 约 before a fraction stays before it
    ("COVID-19疫情，GPT-4发布。", "COVID 十九疫情，G P T 四发布。"),
    ("比分3-2，主队以3-1获胜。", "比分三比二，主队以三比一获胜。"),
    ("可以3-5天到货。", "可以三到五天到货。"),
    ("约1/3的人，~1/4的车。", "约三分之一的人，约四分之一的车。"),
    ("12/25是圣诞节。", "十二月二十五日是圣诞节。"),
    # a score's numbers are amounts (wetext: 112 as the emergency number 幺幺二), powers, below
    # zero at a range's start, numbers with two dots, addresses read out
    ("湖人112-108战胜勇士。", "湖人一百一十二比一百零八战胜勇士。"),
    ("光速是3×10^8米每秒。", "光速是三乘十的八次方米每秒。"),
    ("气温-5~3℃，明天-10到-2℃。", "气温零下五到三摄氏度，明天零下十到零下二摄氏度。"),
    ("区间-5~3。", "区间负五到三。"),
    (
        "版本v1.2.3，Python 3.11.4，IP是192.168.1.1。",
        "版本v一点二点三，Python 三点一一点四，I P是一九二点一六八点一点一。",
    ),
    ("截至2024.6.30。", "截至二零二四年六月三十日。"),
    ("发邮件到john.doe@example.com。", "发邮件到john点doe艾特example点com。"),
    (
        "访问www.example.com或https://example.com/docs了解更多。",
        "访问W W W点example点com或example点com斜杠docs了解更多。",
    ),
    # numbers that name a day, a show, a school tier, a schedule or an error; days with a middle
    # dot; a unit or building numbered 2 in an address (counted things stay amounts and 两)
    ("今年618大促，很多商品打五折。", "今年六一八大促，很多商品打五折。"),
    ("京东618开始了。", "京东六一八开始了。"),
    ("3·15晚会曝光了几家企业。", "三一五晚会曝光了几家企业。"),
    ("程序员反对996工作制。", "程序员反对九九六工作制。"),
    ("这是一所211大学。", "这是一所二一一大学。"),
    ("只招985、211的学生。", "只招九八五、二一一的学生。"),
    ("页面显示404错误。", "页面显示四零四错误。"),
    ("9·11事件改变了世界。", "九一一事件改变了世界。"),
    ("12·9运动爆发于北平。", "一二九运动爆发于北平。"),
    ("我家在5栋2单元501室。", "我家在五栋二单元五零一室。"),
    ("共618人参加，花了618元。", "共六百一十八人参加，花了六百一十八元。"),
    ("他考了985分。", "他考了九百八十五分。"),
    ("他们盖了2栋楼。", "他们盖了两栋楼。"),
    ("5.1劳动节放假，10·1国庆节快乐。", "五一劳动节放假，十一国庆节快乐。"),
    ("公元前221年秦统一六国。", "公元前二二一年秦统一六国。"),
    # a time taken is minutes and seconds (wetext: 二十五比三十); a plus between amounts is 加
    (
        "跑了5km用时25:30，马拉松成绩2:05:30。",
        "跑了五公里用时二十五分三十秒，马拉松成绩两小时五分三十秒。",
    ),
    ("视频时长3:00", "视频时长三分钟"),
    ("内存16GB+512GB", "内存十六G加五百一十二G"),
    # money per something, as wetext says 9.9元/斤; pay in thousands written k; millilitres
    ("会员¥99/月，单次$5/次。", "会员每月九十九元，单次每次五美元。"),
    ("月薪超过12k，年终奖3k。", "月薪超过一万二千，年终奖三千。"),
    ("喝500ml水", "喝五百毫升水"),
    # watts after a number (5W1H stays letters); Taipei 101 and an HTTP status digit by digit
    (
        "支持65W快充，附赠20w充电器，5W1H分析法。",
        "支持六十五瓦快充，附赠二十瓦充电器，五W一H分析法。",
    ),
    ("台北101大楼返回HTTP 404错误", "台北一零一大楼返回H T T P 四零四错误"),
    # seconds on the hour keep their 零分 (wetext: 两点三十秒); weekdays as a range
    ("闹钟下午2:00:30响了。", "闹钟下午两点零分三十秒响了。"),
    ("闹钟2:00:30 PM响了。", "闹钟下午两点零分三十秒响了。"),
    ("会议12:00:00 a.m.结束。", "会议上午十二点结束。"),
    ("这部电影豆瓣评分8.9/10，值得一看。", "这部电影豆瓣评分八点九分，满分十分，值得一看。"),
    ("这家店评分4.8/5分。", "这家店评分四点八分，满分五分。"),
    ("这家店4.5/5星。", "这家店四点五星，满分五星。"),
    ("中奖的概率是1.5/10。", "中奖的概率是十分之一点五。"),
    ("周一~周五营业", "周一至周五营业"),
    # currency codes wetext misreads (R M B 五百; 五十欧元成员国)
    ("价格RMB 99起，预算EUR 2万。", "价格人民币九十九元起，预算两万欧元。"),
    # an official document's year and serial, digit by digit
    ("根据国发〔2023〕1号文件执行。", "根据国发〔二零二三〕一号文件执行。"),
    ("第2023001号公告", "第二零二三零零一号公告"),
    ("双色球第2024143期开奖。", "双色球第二零二四一四三期开奖。"),
    # ten thousands written w, as the web writes 万 (65w快充 is watts)
    ("这篇文章阅读10w+，粉丝3.5w。", "这篇文章阅读十万多，粉丝三点五万。"),
    ("月薪2w，这款手机卖了3w台。", "月薪两万，这款手机卖了三万台。"),
    ("支持65w快充", "支持六十五瓦快充"),
    ("全场7.5折起。", "全场七五折起。"),
    # Full-width digits, letters and per cent, as input methods type them.
    ("圆周率是３．１４，增长了５０％．", "圆周率是三点一四，增长了百分之五十．"),
    ("ＧＰＴ４很好，共１２３元．", "G P T四很好，共一百二十三元．"),
    ("3室2厅，2卫。", "三室两厅，两卫。"),
    ("血压120/80，正常。", "血压高压一百二十，低压八十，正常。"),
    ("这部电影评分8.5分，他有2个卫星。", "这部电影评分八点五分，他有两个卫星。"),
    # Latin words: acronyms letter by letter, words and brands as words
    ("明天交PPT。", "明天交P P T。"),
    ("AI改变了世界。", "A I改变了世界。"),
    ("用USB线充电。", "用U S B线充电。"),
    ("我用iPhone拍照。", "我用iPhone拍照。"),
    ("我们用Zoom开会。", "我们用Zoom开会。"),
    ("NASA发射了新卫星。", "NASA发射了新卫星。"),
    # 110, 112, 119 and 120 called where they are called, else amounts (wetext said 幺二零
    # wherever no measure word it knew came next)
    ("快拨打120！遇到危险打110报警。", "快拨打幺二零！遇到危险打幺幺零报警。"),
    ("火警电话119，120急救中心。", "火警电话幺幺九，幺二零急救中心。"),
    ("请拨打110、119或120。", "请拨打幺幺零、幺幺九或幺二零。"),
    ("这座桥有120年的历史，答案是120。", "这座桥有一百二十年的历史，答案是一百二十。"),
    (
        "屏幕支持120Hz，功率120W，每天120次。",
        "屏幕支持一百二十赫兹，功率一百二十瓦，每天一百二十次。",
    ),
    ("民国110年12月6日", "民国一百一十年十二月六日"),
    # units wetext left in letters: frequency, voltage, decibels, grams (not 5g网络), rates
    ("主频3.2GHz，WiFi 5GHz。", "主频三点二吉赫兹，WiFi 五吉赫兹。"),
    ("家用电压220V，110kV变电站。", "家用电压两百二十伏，一百一十千伏变电站。"),
    ("噪音40dB，面粉500g，支持5g网络。", "噪音四十分贝，面粉五百克，支持五g网络。"),
    ("宽带100Mbps，视频60fps。", "宽带一百兆比特每秒，视频六十帧每秒。"),
    # a height in metres and centimetres, the centimetres digit by digit
    ("他身高1米75，姚明2米26。", "他身高一米七五，姚明两米二六。"),
    ("桌子长1米20厘米。", "桌子长一米二十厘米。"),
    # 两 before a unit, not before a network's generation
    ("加盐约2g，2V电池，2G网络。", "加盐约两克，两伏电池，二G网络。"),
    # a range of years before what it spans, each year digit by digit (wetext: 减 before 学年)
    ("2024-2025学年，2020至2023年度。", "二零二四到二零二五学年，二零二零到二零二三年度。"),
    ("支持IP68防水。", "支持I P六八防水。"),
    # an hour with am or pm and no minutes, the half of the day said before it once
    (
        "会议改到3pm，10AM开会，晚上8pm见，12pm午饭。",
        "会议改到下午三点，上午十点开会，晚上八点见，中午十二点午饭。",
    ),
    # a charger's volts and amps; numbers read out after the words that name them
    ("5V2A充电器", "五伏两安充电器"),
    ("QQ号123456789，验证码是384920。", "Q Q号幺二三四五六七八九，验证码是三八四九二零。"),
    ("身份证号11010119900101123X。", "身份证号幺幺零幺零幺幺九九零零幺零幺幺二三X。"),
    # a change in percent with its sign; a range's end is no sign
    (
        "涨幅-2.3%，环比+1.2%，约3-5%。",
        "涨幅负百分之二点三，环比正百分之一点二，约百分之三到百分之五。",
    ),
    # a year in two digits, digit by digit, where it dates (a month, an event, 我是98年的, a
    # range); a count of years stays an amount
    ("我98年出生，24年3月毕业，19年底搬家。", "我九八年出生，二四年三月毕业，一九年底搬家。"),
    ("我是98年的。从19年到23年，他干了4年。", "我是九八年的。从一九年到二三年，他干了四年。"),
    ("这里有98年的历史，24年来变化很大。", "这里有九十八年的历史，二十四年来变化很大。"),
    # thousands written k after what the web counts; a model after its series and a space
    ("点赞1.2k，粉丝破3k。", "点赞一千二百，粉丝破三千。"),
    ("这张RTX 4090显卡，GTX 1060也行。", "这张R T X 四零九零显卡，G T X 一零六零也行。"),
    # a product's versions in slashes: alternatives, not a date (十月十一日) or a fraction
    (
        "支持Windows 10/11和iOS 16/17，Python 2/3都可以。",
        "支持Windows 十或十一和iOS 十六或十七，Python 二或三都可以。",
    ),
    ("戴N95或KN95口罩。", "戴N九五或K N九五口罩。"),
    # quotes as written, numbers inside them or not
    ('第5章叫"开始"。', '第五章叫"开始"。'),
    ('他说"我有3个"。', '他说"我有三个"。'),
]

ENGLISH = [
    # money
    ("The jacket costs $45.99.", "The jacket costs forty-five dollars and ninety-nine cents."),
    (
        "Rent is $1,299 a month.",
        "Rent is one thousand two hundred and ninety-nine dollars a month.",
    ),
    ("A coffee is $3.50.", "A coffee is three dollars and fifty cents."),
    ("Tickets cost €20.", "Tickets cost twenty euros."),
    ("It sold for £1.01.", "It sold for one pound and one penny."),
    ("They raised $2.5 million.", "They raised two point five million dollars."),
    ("It costs $1.", "It costs one dollar."),
    # abbreviations, by context
    ("She lives on Baker St.", "She lives on Baker Street."),
    ("We drove to St. Louis.", "We drove to Saint Louis."),
    ("The St. Lawrence River is wide.", "The Saint Lawrence River is wide."),
    ("Dr. Smith will see you.", "Doctor Smith will see you."),
    ("Turn onto Mulholland Dr.", "Turn onto Mulholland Drive."),
    ("Mt. Everest is tall.", "Mount Everest is tall."),
    ("Mr. and Mrs. Brown came.", "Mister and Missus Brown came."),
    ("Mr Smith met Mrs Jones and Ms Lee.", "Mister Smith met Missus Jones and Miz Lee."),
    ("He moved to the U.S. in May.", "He moved to the U S in May."),
    ("Bring fruit, e.g. apples.", "Bring fruit, for example apples."),
    ("They raised $2.5bn.", "They raised two point five billion dollars."),
    ("He earns $80k a year.", "He earns eighty thousand dollars a year."),
    ("It cost £5m.", "It cost five million pounds."),
    # abbreviations before a number, ranges with a dash, heights, multiples
    ("See Fig. 3 on p. 23.", "See Figure three on page twenty three."),
    ("Read pp. 10-12 and Ch. 4.", "Read pages ten to twelve and Chapter four."),
    (
        "He lives at No. 5, built ca. 1900.",
        "He lives at Number five, built circa nineteen hundred.",
    ),
    ("We are #1.", "We are number one."),
    ("He said No.", "He said No."),
    ("Read pages 10–20.", "Read pages ten to twenty."),
    ("The war lasted 1939–1945.", "The war lasted nineteen thirty nine to nineteen forty five."),
    ("She is 5'11\" tall.", "She is five foot eleven tall."),
    ("It is 1.5x faster.", "It is one point five times faster."),
    ("We are open 24/7.", "We are open twenty-four seven."),
    ("WebP saves ~30% of the size.", "WebP saves about thirty percent of the size."),
    # thousands: wetext dropped the one (thousand five hundred) and read 1000 as a year
    ("We had 1,500 people.", "We had one thousand five hundred people."),
    ("It has 1000 rows.", "It has one thousand rows."),
    ("It is 1,500 km away.", "It is one thousand five hundred kilometers away."),
    # versions: each part a number ("three point eleven"), a decimal as before
    ("Install Python 3.11 first.", "Install Python three point eleven first."),
    ("Upgrade to Ubuntu 22.04 today.", "Upgrade to Ubuntu twenty-two point oh four today."),
    ("See Section 3.2.1.", "See Section three point two point one."),
    ("The v2.0 release.", "The V two point zero release."),
    ("Pi is 3.14 or so.", "Pi is three point one four or so."),
    # Roman numerals: espeak-ng said "roman four", "Henry roman eight"
    ("Chapter IV begins.", "Chapter four begins."),
    ("IV.", "four."),
    ("King Henry VIII had six wives.", "King Henry the eighth had six wives."),
    ("Apollo XI landed in 1969.", "Apollo eleven landed in nineteen sixty nine."),
    ("The book I read was long.", "The book I read was long."),
    ("Malcolm X spoke in Washington DC.", "Malcolm X spoke in Washington DC."),
    (
        "It sold 1,234.56 units.",
        "It sold one thousand two hundred and thirty-four point five six units.",
    ),
    (
        "In 1999 about 1500 people came.",
        "In nineteen ninety nine about fifteen hundred people came.",
    ),
    # units and temperatures
    ("It is 10 km away.", "It is ten kilometers away."),
    ("Buy 5 kg of flour.", "Buy five kilograms of flour."),
    ("The file is 3.5 GB.", "The file is three point five gigabytes."),
    ("It is 20°C outside.", "It is twenty degrees Celsius outside."),
    ("It fell to -5 degrees.", "It fell to minus five degrees."),
    ("Drive at 60 mph.", "Drive at sixty miles per hour."),
    # phone numbers, e-mail addresses and web addresses
    ("Call 555-123-4567 today.", "Call five five five, one two three, four five six seven today."),
    ("Call (555) 123-4567.", "Call five five five, one two three, four five six seven."),
    # with a country code: the code a number, the groups digit by digit (wetext: amounts)
    (
        "Call +44 20 7946 0958.",
        "Call plus forty-four, two zero, seven nine four six, zero nine five eight.",
    ),
    ("Email bob@example.com now.", "Email bob at example dot com now."),
    ("Visit www.example.com today.", "Visit WWW dot example dot com today."),
    # times, ordinals, years, dates
    ("Meet me at 3:30 pm.", "Meet me at three thirty PM."),
    ("The train leaves at 9:05 am.", "The train leaves at nine o five AM."),
    ("The shop opens at 8.30 a.m. daily.", "The shop opens at eight thirty AM daily."),
    ("We met at 9:05 p.m.", "We met at nine o five PM."),
    # a clock time with seconds is no duration; seconds on the hour, and none, as people say them
    (
        "It ended at 11:59:59 p.m. sharp.",
        "It ended at eleven fifty-nine and fifty-nine seconds PM sharp.",
    ),
    (
        "The alarm went off at 2:00:30 PM.",
        "The alarm went off at two o'clock and thirty seconds PM.",
    ),
    ("At 12:00:00 a.m. the year turns.", "At twelve AM the year turns."),
    ("She finished 21st.", "She finished twenty-first."),
    ("It is the 3rd time.", "It is the third time."),
    ("He was born in 1999.", "He was born in nineteen ninety nine."),
    ("Music of the 1980s.", "Music of the nineteen eighties."),
    ("We met on May 5, 2026.", "We met on May fifth, twenty twenty six."),
    ("Due on 12/04/2026.", "Due on December fourth, twenty twenty six."),
    ("Sales grew 15%.", "Sales grew fifteen percent."),
    # a rating with decimals is out of its scale (wetext: "four.five fifths"); a number and more
    ("Rated 4.5/5 stars.", "Rated four point five out of five stars."),
    ("Ages 18+ only.", "Ages eighteen plus only."),
    ("We have 200+ customers.", "We have two hundred plus customers."),
    # a plus before a number, cents, a battery's milliamp hours
    (
        "Temps between -10°C and +5°C.",
        "Temps between minus ten degrees Celsius and plus five degrees Celsius.",
    ),
    ("It costs 99¢.", "It costs ninety nine cents."),
    ("Battery: 5000mAh.", "Battery: five thousand milliamp hours."),
    # after "a" a unit names a kind of thing, and is not plural
    ("A 4,000 mAh battery.", "A four thousand milliamp hour battery."),
    (
        "A 12V battery, 220 V at the socket.",
        "A twelve volt battery, two hundred and twenty volts at the socket.",
    ),
    (
        "It is rated at 85 dB, an 85 dB alarm.",
        "It is rated at eighty five decibels, an eighty five decibel alarm.",
    ),
    ("We won 2 v 1.", "We won two versus one."),
    # a whole-number rating after a word that rates or before stars; a date stays a date
    (
        "Rated 4/5 stars. I give it 9/10.",
        "Rated four out of five stars. I give it nine out of ten.",
    ),
    ("Meet on 8/10.", "Meet on August tenth."),
    # fractions in one character, with a whole number or before a unit
    (
        "Add ½ tsp salt and 1½ tbsp oil.",
        "Add one half teaspoon salt and one and a half tablespoons oil.",
    ),
    ("It is 2¾ inches.", "It is two and three quarters inches."),
    # inches as a double quote before what they measure; a quotation's number stays a number
    (
        'A 27" monitor, a 12" x 18" frame, 6" deep.',
        "A twenty seven inch monitor, a twelve by eighteen inch frame, six inches deep.",
    ),
    ('She said "give me 5" and left.', 'She said "give me five" and left.'),
    ("A Boeing 747, up 12 pts.", "A Boeing seven forty-seven, up twelve points."),
    # square measures and ages, with their plurals
    (
        "About 2,500 sq ft, a 500 sq ft flat.",
        "About two thousand five hundred square feet, a five hundred square foot flat.",
    ),
    ("He is 25 y/o, a 30 y/o man.", "He is twenty five years old, a thirty year old man."),
    ("A 1,200 mAh cell.", "A one thousand two hundred milliamp hour cell."),
    # numbers read out after the word that names them, digit by digit; a status code by pairs
    (
        "Your code is 384920. The PIN is 4921.",
        "Your code is three eight four nine two zero. The PIN is four nine two one.",
    ),
    ("Ring 999 in an emergency.", "Ring nine nine nine in an emergency."),
    ("The status code 404 came back.", "The status code four oh-four came back."),
    ("Error code 0x80070005.", "Error code hex eight zero zero seven zero zero zero five."),
    # a month shortened after a word that dates, or before a year
    (
        "Prices rose in Nov. and fell in Dec. Since Feb., sales doubled.",
        "Prices rose in November and fell in December. Since February, sales doubled.",
    ),
    ("It opened in Sept. 2021.", "It opened in september twenty twenty one."),
    ("I met Jan. He is nice.", "I met Jan. He is nice."),
    ("See Sec. 2, para. 3 and Art. 5.", "See Section two, paragraph three and Article five."),
    ("The page said HTTP 404.", "The page said HTTP four oh-four."),
    ("I keep getting a 503 error.", "I keep getting a five oh-three error."),
    ("It answered 429 Too Many Requests.", "It answered four twenty-nine Too Many Requests."),
    ("Error 500 again.", "Error five hundred again."),
    ("He scored 404 points.", "He scored four hundred and four points."),
    ("A 250 page report.", "A two hundred and fifty page report."),
    ("Bakery, Est. 1887.", "Bakery, established eighteen eighty seven."),
    ("Chapter 3 begins.", "Chapter three begins."),
    # metres, not minutes (wetext: "a one hundred minutes race"); millions of people; a
    # duration keeps its minutes
    ("A 100m race at 5 m/s.", "A one hundred meters race at five meters per second."),
    ("It is 1m wide and 1.5m tall.", "It is one meter wide and one point five meters tall."),
    ("The video got 10m views.", "The video got ten million views."),
    ("It took 2h 15m.", "It took two hours fifteen minutes."),
    (
        "Lap one: 4m 30s, lap two: 1m 1s.",
        "Lap one: four minutes thirty seconds, lap two: one minute one second.",
    ),
    # numbers that name, and seasons
    ("Call 911, now.", "Call nine one one, now."),
    ("We had 911,000 people.", "We had nine hundred and eleven thousand people."),
    ("After 9/11, odds were 50/50.", "After nine eleven, odds were fifty-fifty."),
    # 24/7 only where it stands alone (a plain replace had made 124/75 "1twenty-four seven5")
    (
        "Open 24/7, ratio 124/75.",
        "Open twenty-four seven, ratio one hundred twenty four seventy fifths.",
    ),
    ("Stream in 1080p or 720p.", "Stream in ten eighty p or seven twenty p."),
    ("In 2023-24 we grew.", "In twenty twenty three to twenty four we grew."),
    # rooms, gates and flights as people say them; TV as its letters (wetext: "Television")
    ("Room 101 is free, go to Gate 23.", "Room one oh-one is free, go to Gate twenty three."),
    ("Room 2001 or Gate 1500?", "Room twenty oh-one or Gate fifteen hundred?"),
    ("The party is in Room 2000.", "The party is in Room two thousand."),
    ("Her blood pressure was 120/80.", "Her blood pressure was one twenty over eighty."),
    ("It takes 1-2 hrs.", "It takes one to two hours."),
    ("Add 1 tsp. Then stir.", "Add one teaspoon. Then stir."),
    ("See you on 12/25.", "See you on December twenty-fifth."),
    ("He ran a 5K in 25:30.", "He ran a five K in twenty five thirty."),
    ("The 49ers bought 2x4s.", "The forty-niners bought two by fours."),
    (
        "The Sept. 11 attacks; Jan. 1, 2025.",
        "The September eleventh attacks; January first, twenty twenty five.",
    ),
    (
        "You need ≥ 2 GB, for <$10.",
        "You need at least two gigabytes, for less than ten dollars.",
    ),
    ("Pass with >= 90 (≤ 5 tries).", "Pass with at least ninety (at most five tries)."),
    ("Coffee w/ milk, tea w/o sugar.", "Coffee with milk, tea without sugar."),
    ("He is 5 ft 10 in tall, she is 5ft 2in.", "He is five foot ten tall, she is five foot two."),
    (
        "It's 2-3x faster for 15-20% of 5k+ users.",
        "It's two to three times faster for fifteen to twenty percent of five thousand plus users.",
    ),
    (
        "The ratio is 16:9, at 3:45 it costs 3/4 of the price.",
        "The ratio is sixteen to nine, at three forty five it costs three quarters of the price.",
    ),
    ("Suite 1208, floor 12.", "Suite twelve oh-eight, floor twelve."),
    ("Flight BA 2490 is late.", "Flight BA twenty-four ninety is late."),
    ("My room had 312 books.", "My room had three hundred and twelve books."),
    ("A 4K TV and the TV's stand.", "A four K T V and the T V's stand."),
    # sizes, powers, kitchen measures, metres in thousands, web addresses without their scheme
    ("Use a 9x13 pan or a 4x4.", "Use a nine by thirteen pan or a four by four."),
    ("It is 10^6.", "It is ten to the power of six."),
    ("Add 1 tbsp oil and 2 tsp. salt.", "Add one tablespoon oil and two teaspoons salt."),
    (
        "Everest is 8,849 m high.",
        "Everest is eight thousand eight hundred and forty-nine meters high.",
    ),
    ("A 50-50 split.", "A fifty-fifty split."),
    ("Visit https://example.com/docs.", "Visit example dot com slash docs."),
    ("Say HTTPS colon slash slash twice.", "Say HTTPS colon slash slash twice."),
    # ordinary text stays as it is; wetext's grammar read Sun and Sat as days wherever they were
    ("The birch canoe slid on the smooth planks.", "The birch canoe slid on the smooth planks."),
    ("The Sun was low over the bay.", "The Sun was low over the bay."),
    ("Sat on the porch, she waited for news.", "Sat on the porch, she waited for news."),
    # a number among plain words: the words around it are read with it
    (
        "After a long walk through the quiet town we found 3 small cafes open by the station.",
        "After a long walk through the quiet town we found three small cafes open by the station.",
    ),
    # wetext's grammar gives nothing back for this one: it is said as written, never dropped
    ("Fixes from bugs.example.org.", "Fixes from bugs.example.org."),
    # a count with its scale's letter; the letter kept where it names a race, a picture or a
    # size (a 5K run, a 4K TV, a 7B model) or a firm (3M)
    (
        "It got 1.2k likes and 3k shares from 2.5M users.",
        "It got one point two thousand likes and three thousand shares from two point five "
        "million users.",
    ),
    ("Seat 22K, Apartment 5B, Gate 12M.", "Seat twenty two K, Apartment five B, Gate twelve M."),
    (
        "She lives in Flat 204 and works in Unit 1204.",
        "She lives in Flat two oh-four and works in Unit twelve oh-four.",
    ),
    (
        "I ran 5k yesterday and 10k steps today.",
        "I ran five k yesterday and ten thousand steps today.",
    ),
    (
        "He has 10K followers and 1.5B views.",
        "He has ten thousand followers and one point five billion views.",
    ),
    (
        "A 5K run, shot in 4K, on a 7B model with 3M tape.",
        "A five K run, shot in four K, on a seven B model with three M tape.",
    ),
    ("I have an RTX 4090 and a GTX 1060.", "I have an RTX forty ninety and a GTX ten sixty."),
    (
        "It runs on Windows 7/8/10 or iOS 16/17, with Python 2/3.",
        "It runs on Windows seven, eight or ten or IOS sixteen or seventeen, with Python two or "
        "three.",
    ),
    (
        "Page 3/10, step 2 / 5 and Episode 4/12; add 3/4 cup.",
        "Page three of ten, step two of five and Episode four of twelve; add three quarters cup.",
    ),
    # an Airbus by its model, a financial year, finance's changes over a period, circa, a
    # score out of any whole number; the Xbox's Series X is the letter
    (
        "An A380 and an A320. In FY2024 and FY24 revenue rose 12% YoY and 3% QoQ.",
        "An A three eighty and an A three twenty. In FY twenty twenty four and FY twenty four "
        "revenue rose twelve percent year over year and three percent quarter over quarter.",
    ),
    (
        "Built c. 1850. He scored 12/20 on an Xbox Series X.",
        "Built circa eighteen fifty. He scored twelve out of twenty on an Xbox Series X.",
    ),
    # quotes and backslashes as written (wetext hands them back escaped: "backslash hello")
    ('He said "hello" to me.', 'He said "hello" to me.'),
    ('Order 12 is "ready" now.', 'Order twelve is "ready" now.'),
    ('Type \\ then "q".', 'Type \\ then "q".'),
]

ITALIAN = [
    # money: euro after the amount, cents as people say them
    ("Il caffè costa €1,20.", "Il caffè costa un euro e venti."),
    ("Ho pagato 12,50 euro.", "Ho pagato dodici euro e cinquanta."),
    ("Un affitto di 1.200 € al mese.", "Un affitto di milleduecento euro al mese."),
    ("Costa 30,00€.", "Costa trenta euro."),
    # times
    ("Il treno parte alle 8:15.", "Il treno parte alle otto e quindici."),
    ("Aperto dalle 9.30 alle 13:00.", "Aperto dalle nove e trenta alle tredici."),
    ("Ci vediamo alle 1:45.", "Ci vediamo all'una e quarantacinque."),
    # percent, decimals, negative numbers
    ("Lo sconto è del 30%.", "Lo sconto è del trenta per cento."),
    ("L'inflazione è al 2,5%.", "L'inflazione è al due virgola cinque per cento."),
    ("Stanotte -3°C.", "Stanotte meno tre gradi."),
    # units, singular and plural
    ("Il pacco pesa 3 kg.", "Il pacco pesa tre chili."),
    ("Manca 1 km.", "Manca un chilometro."),
    ("Un bilocale di 85 m².", "Un bilocale di ottantacinque metri quadrati."),
    ("Il limite è 50 km/h.", "Il limite è cinquanta chilometri orari."),
    # dates: the first of a month is primo, the others are counted
    ("Il 1° maggio è festa.", "Il primo maggio è festa."),
    ("Nato il 3 marzo 1942.", "Nato il tre marzo millenovecentoquarantadue."),
    ("Scade il 10/12/2026.", "Scade il dieci dicembre duemilaventisei."),
    ("Dal 1/7/2025.", "Dal primo luglio duemilaventicinque."),
    ("Un milione: 1.000.000 di euro.", "Un milione: un milione di euro."),
    # ordinals with their sign, versions, addresses read out; degrees stay
    ("Il 3° posto e la 2ª classificata.", "Il terzo posto e la seconda classificata."),
    ("Fa 30° all'ombra.", "Fa trenta gradi all'ombra."),
    (
        "La versione 1.2.3, non 1.200.000.",
        "La versione uno punto due punto tre, non un milione e duecentomila.",
    ),
    ("Una probabilità 50/50.", "Una probabilità cinquanta e cinquanta."),
    (
        "Scrivi a mario.rossi@example.it o visita https://example.com/docs.",
        "Scrivi a mario punto rossi chiocciola example punto it o visita example punto com"
        " slash docs.",
    ),
    # phone numbers digit by digit, a pause between groups; codes with a leading zero; dates
    # with a year of two digits
    (
        "Chiamami al 06 1234 5678.",
        "Chiamami al zero sei, uno due tre quattro, cinque sei sette otto.",
    ),
    (
        "Il mio cellulare è 347 123 4567.",
        "Il mio cellulare è tre quattro sette, uno due tre, quattro cinque sei sette.",
    ),
    (
        "Tel. +39 055/123456",
        "Tel. più trentanove, zero cinque cinque, uno due tre quattro cinque sei",
    ),
    ("Il codice è 007, alle 09:05.", "Il codice è zero zero sette, alle nove e cinque."),
    ("Scade il 05/03/24.", "Scade il cinque marzo ventiquattro."),
    # ordinary text and acronyms stay as they are (espeak-ng spells PDF as Italians do)
    ("Ho mandato il PDF ieri.", "Ho mandato il PDF ieri."),
    ("Scusi, sa dov'è la stazione?", "Scusi, sa dov'è la stazione?"),
]

# Held out: everyday sentences not in the tables above, heard through the default voices by
# the slow test below and by bench/hearing.py (docs/benchmarks.md).
HELD_OUT_MANDARIN = [
    "这款手机现在只要¥2,499，比上个月便宜了300元。",
    "明天最低气温-8℃，出门记得多穿衣服。",
    "本次考试的及格率是87.5%，比去年高。",
    "请在2026年3月15日之前把报告发给我。",
    "我们的航班下午4:45起飞，大概2–3小时到。",
    "有问题请打13987654321联系王经理。",
    "他在全国比赛中得了第2名。",
    "这台冰箱重65kg，只要¥3,999。",
    "老师让我们周五之前交PPT。",
    "他说下个月一定还钱，请把音量调到最小。",
    "会议定在10月8日上午9:30开始。",
    "这件衣服打完折只要¥168。",
    "从北京到上海大约1200公里。",
    "他每个月的房租是3500元，占工资的40%。",
    "请把U盘插到电脑的USB接口上。",
    "这次旅行一共花了$2,300。",
    "我们公司有120名员工，其中1/3是女性。",
    "这条路限速60km/h，请慢点开。",
    "明年的GDP增长目标是5%左右。",
    "我家离地铁站只有500米，走路5分钟就到。",
    "这套房子有89㎡，每平方米卖3万元。",
    "2024年的冬天特别冷，最低到了-15℃。",
]
HELD_OUT_ENGLISH = [
    "The new laptop costs $1,249.99 at the store on Main St.",
    "Dr. Patel said the clinic opens at 8:30 am.",
    "We hiked 12 km to the top of Mt. Rainier.",
    "Please call 415-555-0172 before Friday.",
    "Send your answers to help@example.org by May 3.",
    "She won the race and finished 1st in 2019.",
    "The bag weighs 23 kg and the limit is 20 kg.",
    "Inflation rose to 3.2% in the U.S. last year.",
    "It was -4 degrees when we left St. Paul.",
    "My phone has 128 GB of storage and cost $799.",
]
HELD_OUT_ITALIAN = [
    "Il biglietto del treno costa 12,50 euro.",
    "La riunione è fissata per il 3 marzo alle 10:30.",
    "Oggi a Milano ci sono 28 gradi.",
    "L'appartamento ha tre camere e misura 85 metri quadrati.",
    "Mio nonno è nato nel 1942 in un piccolo paese.",
    "La benzina oggi costa 1,89 euro al litro.",
    "Abbiamo camminato per 15 chilometri in montagna.",
    "Il 25% degli studenti ha superato l'esame.",
    "Ci vediamo sabato 14 settembre davanti al cinema.",
    "Ho mandato il PDF alla segretaria ieri sera.",
    "Il medico mi ha detto di prendere una pillola ogni 8 ore.",
    "Ho speso €45 per la cena di ieri sera.",
    "Devo rinnovare la carta d'identità entro giugno.",
    "Il pacco pesa 3 kg e arriva tra 2 giorni.",
    "Quest'anno l'azienda ha assunto 120 persone.",
    "Il volo per Parigi parte alle 7:05 dal terminal 1.",
    # six more, written before they were first heard, so that 0.05 is measurable (22)
    "Mia figlia compie 7 anni il 2 aprile.",
    "Il supermercato chiude alle 20:00 la domenica.",
    "Ho prenotato una camera per 2 notti a 95 euro a notte.",
    "Il treno delle 18:40 ha un ritardo di 25 minuti.",
    "Per la torta servono 500 g di farina e 3 uova.",
    "L'ufficio è al quarto piano, stanza 12.",
]
# What the slow tests below allow (bench/hearing.py measures before and after: docs/benchmarks.md).
MANDARIN_CER = 0.05  # the goal (bench/hearing.py: 0.042 on all 22, docs/benchmarks.md)
ENGLISH_WER = 0.04
# Italian's goal. On all 22 the voice chosen reaches 0.061 (bench/hearing.py; docs/benchmarks.md,
# "Italian, third pass": what is left is Whisper base's word boundaries and e/è).
ITALIAN_WER = 0.05


@pytest.fixture(scope="module")
def normalisation() -> Normalisation:
    return Normalisation()


@pytest.mark.parametrize(("written", "said"), MANDARIN)
def test_mandarin_is_said_as_people_say_it(
    normalisation: Normalisation, written: str, said: str
) -> None:
    assert normalisation.said(written, "zh-CN") == said


@pytest.mark.parametrize(("written", "said"), ENGLISH)
def test_english_is_said_as_people_say_it(
    normalisation: Normalisation, written: str, said: str
) -> None:
    assert normalisation.said(written, "en-US") == said


@pytest.mark.parametrize(("written", "said"), ITALIAN)
def test_italian_is_said_as_people_say_it(
    normalisation: Normalisation, written: str, said: str
) -> None:
    assert normalisation.said(written, "it") == said


def test_british_english_reads_dates_day_first(normalisation: Normalisation) -> None:
    assert normalisation.said("Due on 12/04/2026.", "en-GB") == (
        "Due on April twelfth, twenty twenty six."
    )
    assert normalisation.said("See you on 25/12.", "en-GB") == "See you on December twenty-fifth."


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¥99999999999999999999999", "zh-CN"),  # past cn2an's 16 digits
        ("第99999999999999999999名", "zh-CN"),
        ("It costs $5 下22tKa°.", "en-US"),  # wetext's English asserts on this mix
        ("‰¥$€£:/ ℃°", "en-GB"),
        ("Costa 99999999999999999999999999999999999 € il 31/02/2020 alle 25:00.", "it"),
        ("%%% km € ° , 1,", "it"),
    ],
)
def test_text_a_rule_cannot_read_is_still_said(
    normalisation: Normalisation, text: str, language: str
) -> None:
    said = normalisation.said(text, language)
    assert said.strip()
    assert "下" not in text or "下" in said


def test_other_languages_are_left_to_their_engine(normalisation: Normalisation) -> None:
    assert normalisation.said("Il coûte 45,99 €.", "fr-FR") == "Il coûte 45,99 €."
    assert normalisation.said("beep 3", "zxx") == "beep 3"
    assert normalisation.said("Cuesta 45,99 €.", "es") == "Cuesta 45,99 €."


@pytest.mark.parametrize(
    ("text", "right", "wrong"),
    [
        ("请把音量调到最大。", "tʰjau↗", "tjau↘"),  # tiáo, not diào
        ("把空调调到26度。", "tʰjau↗tau↘", "tjau↘"),
        ("你什么时候还钱？", "xwa↗n", "xai↗"),  # huán, not hái
        ("这条河有多长？", "ꭧʰa↗ŋ", "ꭧa↓ŋ"),  # cháng, not zhǎng
    ],
)
def test_polyphones_are_read_right_where_misaki_looks_them_up(
    text: str, right: str, wrong: str
) -> None:
    from misaki.zh import ZHG2P

    mandarin_tokenizer()
    phonemes = ZHG2P(version=None)(text)[0]
    assert right in phonemes and wrong not in phonemes, phonemes


def test_a_transfer_is_still_diao() -> None:
    from misaki.zh import ZHG2P

    mandarin_tokenizer()
    assert "tjau↘" in ZHG2P(version=None)("他被调到北京工作了。")[0]


@pytest.mark.slow  # espeak-ng's library, found through ldconfig (a process)
@pytest.mark.parametrize(
    ("text", "letters"),
    [
        # English letter names, one at a time (A alone is "ei", not the article "a"), with the
        # puff of air English p, t, k have: a bare p is pinyin b to a Mandarin voice, and
        # "P P T" said as "bee bee dee" was heard as 避避地.
        ("老师让我们周五之前交P P T。", "pʰˈiː pʰˈiː tʰˈiː"),
        ("附近有没有A T M可以取钱？", "ˈeɪ tʰˈiː ˈɛm"),
        ("明年的G D P增长目标。", "dʒˈiː dˈiː pʰˈiː"),
    ],
)
def test_acronyms_inside_chinese_are_english_letters_with_their_aspiration(
    text: str, letters: str
) -> None:
    from kokoro_onnx.tokenizer import Tokenizer
    from misaki.zh import ZHG2P

    from sayfile.engines.kokoro_mandarin import mandarin_phonemes

    mandarin_tokenizer()
    phonemes = mandarin_phonemes(ZHG2P(version=None), Tokenizer(), text)
    assert f" {letters} " in phonemes, phonemes


@pytest.mark.slow  # espeak-ng's library, found through ldconfig (a process)
def test_english_words_inside_chinese_keep_unaspirated_stops_where_english_has_them() -> None:
    from kokoro_onnx.tokenizer import Tokenizer
    from misaki.zh import ZHG2P

    from sayfile.engines.kokoro_mandarin import mandarin_phonemes

    phonemes = mandarin_phonemes(ZHG2P(version=None), Tokenizer(), "我们用Zoom开会，再去stop。")
    assert "zˈuːm" in phonemes and "stˈɑːp" in phonemes, phonemes


class _Listening(ToneEngine):
    """Beeps for an English voice, keeping the words it was handed."""

    name = "listening"

    def __init__(self) -> None:
        self.heard: list[str] = []

    def voices(self) -> list[Voice]:
        return [Voice("listening:en", "listening", "Ear", "en-US", 16_000, Quality.formant)]

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        self.heard.append(text)
        return super().synthesize(voice, text, speed)


def _written(engine: _Listening, text: str, target: Path) -> SpeechResult:
    """`text` written to `target` by a Synthesizer of `engine`'s one voice."""
    executor = SentenceExecutor(1)
    try:
        synthesizer = Synthesizer(Catalogue([engine], "listening:en"), executor, 400)
        voice = synthesizer.catalogue.resolve(voice="listening:en")
        plan = SpeechPlan(text, voice, audio_format("wav"), 1.0, words=text)
        turn = executor.turn(Lane.interactive)
        return asyncio.run(synthesizer.write(plan, target, turn))
    finally:
        executor.close()


def test_the_engine_gets_the_words_as_said_and_timings_keep_them_as_written(
    tmp_path: Path,
) -> None:
    engine = _Listening()
    result = _written(engine, "The jacket costs $45.99. Call 555-123-4567.", tmp_path / "out.wav")
    assert [t.text for t in result.timings.pieces] == [
        "The jacket costs $45.99.",
        "Call 555-123-4567.",
    ]
    assert engine.heard == [
        "The jacket costs forty-five dollars and ninety-nine cents.",
        "Call five five five, one two three, four five six seven.",
    ]
    # Every word said is a beep: the longer words are what the audio is made of.
    assert result.duration_s > 0.16 * 15


@pytest.mark.parametrize(
    ("written", "language", "said"),
    [
        ("Sure! 😊 Here is how to do it 👍.", "en-US", "Sure! Here is how to do it ."),
        ("好的😊，我来帮你。", "zh-CN", "好的 ，我来帮你。"),
        ("Done ✅ — all good!", "en-US", "Done — all good!"),
        ("I ❤️ my family 👨‍👩‍👧 and my team 👍🏽.", "en-US", "I my family and my team ."),
        ("Hola 👋 a todos 🇪🇸.", "es", "Hola a todos ."),
        ("Press 1️⃣, then see © 2024.", "en-US", "Press one, then see copyright twenty twenty four."),
    ],
)
def test_emoji_are_not_said(
    normalisation: Normalisation, written: str, language: str, said: str
) -> None:
    """Voices read an emoji's name ("smiling face with smiling eyes") in English; text
    symbols (©) and a keycap's digit are said."""
    assert " ".join(normalisation.said(written, language).split()) == said


def test_a_piece_of_emoji_alone_is_silent_and_keeps_its_place(tmp_path: Path) -> None:
    engine = _Listening()
    text = "Great work! 🎉🎉 See you soon 👋.\n\n👍."
    result = _written(engine, text, tmp_path / "out.wav")
    assert [" ".join(heard.split()) for heard in engine.heard] == ["Great work!", "See you soon ."]
    # The emoji-only piece is still in the timings, where the text has it.
    assert [t.text for t in result.timings.pieces][-1] == "👍."
    assert "".join("".join(t.text for t in result.timings.pieces).split()) == "".join(text.split())


def canonical(words: Normalisation, text: str, language: str) -> str:
    """`text` put in words as sayfile says it, so that what Whisper writes ("$45.99", "8.30am")
    and what was written compare by what is heard. 幺 counts as 一 (Whisper base writes it 要
    even for text written out as spoken, issue 22); an acronym is one word (U.S., US, U S).
    Italian is also spelled as it sounds where its spelling has two ways for one word
    (`italian_spelling`)."""
    if language.startswith("zh"):
        text = re.sub(r"要(?=\d{10}(?!\d))", "1", text)  # a mobile number's first digit
        return words.said(text, language).replace("幺", "一")
    said = re.sub(r"\b([A-Z]) (?=[A-Z]\b)", r"\1", words.said(text, language))
    return italian_spelling(said) if language.startswith("it") else said


# The h of ho, hai, ha, hanno is never said: Italian writes it only to tell these forms of
# avere from o, ai, a, anno, which sound the same. Whisper cannot hear which was meant.
_SILENT_H = re.compile(r"\b[Hh](?=(?:o|ai|a|anno)\b)")
# d' is di with its vowel elided before another vowel ("d'identità"); Italian writes either
# ("di identità" is also correct), and said at speed they are one sound.
_ELIDED_DI = re.compile(r"\b([Dd])['\u2019\u02bc]\s*(?=[aeiouàèéìòù])", re.IGNORECASE)


def italian_spelling(text: str) -> str:
    """Italian words that are one word said two ways in writing, written one way: the silent
    h of ho, hai, ha, hanno dropped, the elided d' as di. Applied to both the written
    sentence and what was heard, so a word misheard (ha as è, d' as da) still counts."""
    return _ELIDED_DI.sub(lambda found: found[1] + "i ", _SILENT_H.sub("", text))


@pytest.mark.parametrize(
    ("written", "heard"),
    [
        # what Whisper base wrote for if_sara against the sentence it was given
        ("Il biglietto del treno costa 12,50 euro.", "Il biglietto del treno costa 12,50€."),
        ("La benzina oggi costa 1,89 euro al litro.", "La benzina oggi costa 1,89€ al litro."),
        ("Abbiamo camminato per 15 chilometri.", "abbiamo camminato per 15 km"),
        ("Ho speso €45 per la cena.", "Ho speso 45 euro per la cena."),
        ("La riunione è alle 10:30.", "La riunione è alle 10.30."),
        ("Il pacco pesa 3 kg.", "Il pacco pesa tre chili."),
        ("Ha superato l'esame.", "ha superato l’esame"),
        ("La fermata dell'autobus.", "La fermata dell' autobus."),
        # one word, two spellings: the silent h of avere, d' for di
        ("L'appartamento ha tre camere.", "L'appartamento a tre camere."),
        ("Hanno chiamato, ma io ho già mangiato.", "Anno chiamato, ma io o già mangiato."),
        ("Devo rinnovare la carta d'identità.", "Devo rinnovare la carta di identità."),
        ("Un bicchiere d\u2019acqua.", "Un bicchiere di acqua."),
    ],
)
def test_italian_heard_as_written_scores_nothing(
    normalisation: Normalisation, written: str, heard: str
) -> None:
    expected = canonical(normalisation, written, "it")
    assert word_error_rate(expected, canonical(normalisation, heard, "it")) == 0.0


@pytest.mark.parametrize(
    ("written", "heard", "errors", "words"),
    [
        # words run together or split apart are still errors: the scorer forgives spelling,
        # not hearing (an elided word is a word: dov' è, d' identità)
        ("Mia sorella lavora in una scuola.", "Mi assorella lavora in una scuola.", 2, 6),
        ("Scusi, sa dov'è la fermata?", "Scusi, sado ve la fermata.", 3, 6),
        ("Devo rinnovare la carta d'identità.", "Devo rinnovare la carta identità.", 1, 6),
        ("Devo rinnovare la carta d'identità.", "Devo rinnovare la carta da identità.", 1, 6),
        # the silent h spares the spelling, not the word: ha left out or heard as è counts
        ("L'azienda ha assunto 120 persone.", "L'azienda assunto 120 persone.", 1, 6),
        ("Mi ha detto di sì.", "Mi è detto di sì.", 1, 5),
        ("Hanno chiamato ieri.", "Anni chiamato ieri.", 1, 3),
        ("Ho la chiave.", "Hotel a chiave.", 2, 3),
        ("Il biglietto costa 12,50 euro.", "Il biglietto costa 12 euro.", 2, 7),
    ],
)
def test_italian_misheard_words_still_count(
    normalisation: Normalisation, written: str, heard: str, errors: int, words: int
) -> None:
    expected = canonical(normalisation, written, "it")
    rate = word_error_rate(expected, canonical(normalisation, heard, "it"))
    assert rate == pytest.approx(errors / words), (expected, rate)


# Whisper hears 30 s of audio at once; across windows it may skip a line.
WINDOW_S = 30.0


def _heard_rates(
    voices: Speech, listener: Listener, language: str, groups: list[list[str]], tmp: Path
) -> list[tuple[float, str]]:
    """Each group of sentences made as one text and heard as one (its sentences are
    synthesized side by side, and Whisper hears one window, not one per sentence): the error
    rate of each group, with what was heard."""
    words = Normalisation()
    tag, rate = ("zh-CN", character_error_rate) if language == "zh" else ("en-US", word_error_rate)
    rates = []
    for group in groups:
        text = ("" if language == "zh" else " ").join(group)
        plan = voices.plan(text, format="wav", language=language)
        target = tmp / "spoken.wav"
        assert voices.write(plan, target).duration_s < WINDOW_S, "split the group"
        heard = listener.hear(target.read_bytes(), language)
        heard = simplified(heard) if language == "zh" else heard
        rates.append((rate(canonical(words, text, tag), canonical(words, heard, tag)), heard))
    return rates


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_held_out_mandarin_is_heard(voices: Speech, listener: Listener, tmp_path: Path) -> None:
    assert voices.catalogue.resolve(language="zh").id == "kokoro:zm_yunjian"
    # Seven of the 22 keep the suite short (bench/hearing.py hears them all): the first six
    # and the acronym, which was heard as 避避地 before its p and t were aspirated.
    chosen = [*HELD_OUT_MANDARIN[:6], HELD_OUT_MANDARIN[8]]
    assert "PPT" in chosen[-1]
    # Heard one at a time: heard together, Whisper base writes the numbers in other forms (幺
    # as 腰, digits as words), which the 0.05 bound was not set for. Made in one request (side
    # by side) and cut out by the timings: the same samples as each made alone.
    words = Normalisation()
    clips = voices.apart(chosen, "", tmp_path / "spoken.wav", language="zh")
    rates = []
    for text, clip in zip(chosen, clips, strict=True):
        heard = simplified(listener.hear(clip, "zh"))
        expected = canonical(words, text, "zh-CN")
        rates.append((character_error_rate(expected, canonical(words, heard, "zh-CN")), heard))
    assert statistics.mean(r for r, _ in rates) <= MANDARIN_CER, rates


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_held_out_italian_is_heard(voices: Speech, listener: Listener, tmp_path: Path) -> None:
    assert voices.catalogue.resolve(language="it").id == "kokoro:if_sara"
    # Seven of the 22 (bench/hearing.py hears them all): biglietto and degli, whose short gl
    # was heard "billietto", three with the verb è, which espeak-ng said as the conjunction e
    # (heard "L'ufficio e al quarto piano"), one of them with a possessive Whisper base runs
    # into its noun ("Mio nonno" as "Mionanno", 0.2), units and an elided d'. Each heard
    # alone, made in one request: 0.029 (0.062 with è and gl as espeak-ng says them).
    chosen = [HELD_OUT_ITALIAN[i] for i in (0, 1, 4, 7, 12, 13, 21)]
    assert "biglietto" in chosen[0] and sum(" è " in text for text in chosen) == 3
    words = Normalisation()
    clips = voices.apart(chosen, " ", tmp_path / "spoken.wav", language="it")
    rates = []
    for text, clip in zip(chosen, clips, strict=True):
        heard = listener.hear(clip, "it")
        expected = canonical(words, text, "it")
        rates.append((word_error_rate(expected, canonical(words, heard, "it")), heard))
    assert statistics.mean(r for r, _ in rates) <= ITALIAN_WER, rates


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_held_out_english_is_heard(voices: Speech, listener: Listener, tmp_path: Path) -> None:
    assert voices.catalogue.resolve(language="en").id == "kokoro:af_heart"
    chosen = HELD_OUT_ENGLISH[:7]
    rates = _heard_rates(voices, listener, "en", [chosen[:4], chosen[4:]], tmp_path)
    assert statistics.mean(r for r, _ in rates) <= ENGLISH_WER, rates


# Dialogue in straight quotes, as novels and web pages write it, with British titles; the
# number sends its quotes through wetext's grammar.
QUOTED = 'Mr Brown said "take 2 apples" and Mrs Brown said "hello" to me.'


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("voice", ["kokoro:af_heart", "espeak:en-us"])
def test_dialogue_in_quotes_is_heard_as_written(
    voices: Speech, listener: Listener, tmp_path: Path, voice: str
) -> None:
    """wetext's grammar handed quotes back escaped, and every voice said "backslash" before
    each of them; Whisper hears the sentence, not the escapes."""
    target = tmp_path / "said.wav"
    voices.write(voices.plan(QUOTED, voice=voice, format="wav"), target)
    heard = listener.hear(target.read_bytes(), "en")
    assert "backslash" not in heard.lower().replace(" ", ""), heard
    words = Normalisation()
    said, understood = (canonical(words, text, "en-US") for text in (QUOTED, heard))
    assert word_error_rate(said, understood) <= 0.1, heard
