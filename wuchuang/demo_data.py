"""Tables behind the demo programme (see ``wuchuang.demo``): themes, hosts, venues, names, organisations.

Venues, addresses and coordinates are plausible for their district, not authoritative. Companies are
invented. Demo e-mail addresses use only the reserved ``example.*`` domains so nothing can reach a real inbox.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Theme:
    name: str  # used in the title "武创荟·{name}专场" and as the first tag
    topics: str  # the research directions a session of this theme presents
    hosts: tuple[str, ...]
    tags: tuple[str, ...]  # extra tags, one or two are used


@dataclass(frozen=True, slots=True)
class Venue:
    district: str  # a code from events.districts
    name: str
    address: str
    latitude: float
    longitude: float


THEMES: tuple[Theme, ...] = (
    Theme(
        "人工智能",
        "大模型、机器视觉与具身智能",
        ("武汉大学", "华中科技大学", "武汉产业创新发展研究院"),
        ("大模型", "具身智能", "机器视觉"),
    ),
    Theme(
        "光电子信息",
        "光通信器件、激光加工与新型显示",
        ("光谷实验室", "华中科技大学", "武汉光电国家研究中心"),
        ("光通信", "激光", "新型显示"),
    ),
    Theme(
        "合成生物",
        "合成生物制造、酶工程与生物基材料",
        ("华中农业大学", "洪山实验室", "湖北大学"),
        ("生物制造", "酶工程"),
    ),
    Theme(
        "6G",
        "太赫兹通信、空天地一体化网络与通感一体化",
        ("华中科技大学", "武汉大学", "中国信息通信科技集团"),
        ("太赫兹", "卫星互联网"),
    ),
    Theme(
        "量子科技",
        "量子精密测量、量子通信与量子计算",
        ("武汉量子技术研究院", "华中科技大学", "中国科学院精密测量科学与技术创新研究院"),
        ("量子测量", "量子通信"),
    ),
    Theme(
        "生物医药",
        "创新药、高端医疗器械与细胞治疗",
        ("江夏实验室", "武汉大学", "华中科技大学同济医学院"),
        ("创新药", "医疗器械", "细胞治疗"),
    ),
    Theme(
        "新能源与智能网联汽车",
        "动力电池、线控底盘与车路协同",
        ("武汉理工大学", "华中科技大学", "武汉产业创新发展研究院"),
        ("动力电池", "车路协同", "智能驾驶"),
    ),
    Theme(
        "北斗",
        "北斗高精度定位、时空大数据与导航增强",
        ("武汉大学", "珞珈实验室", "中国地质大学（武汉）"),
        ("卫星导航", "时空大数据"),
    ),
    Theme(
        "高端装备",
        "数控机床、工业机器人与精密测控",
        ("华中科技大学", "武汉理工大学", "东湖实验室"),
        ("工业机器人", "数控机床"),
    ),
    Theme(
        "新材料",
        "先进陶瓷、复合材料与功能薄膜",
        ("武汉理工大学", "中国地质大学（武汉）", "武汉科技大学"),
        ("复合材料", "先进陶瓷"),
    ),
    Theme(
        "低空经济",
        "无人机、电动垂直起降飞行器与低空感知",
        ("武汉大学", "华中科技大学", "武汉理工大学"),
        ("无人机", "eVTOL", "通用航空"),
    ),
    Theme(
        "脑科学与类脑智能",
        "脑机接口、神经调控与类脑计算",
        ("华中科技大学", "武汉大学", "华中师范大学"),
        ("脑机接口", "类脑计算"),
    ),
    Theme(
        "氢能",
        "电解水制氢、燃料电池与储氢装备",
        ("武汉理工大学", "东湖实验室", "中国地质大学（武汉）"),
        ("燃料电池", "储氢"),
    ),
    Theme(
        "集成电路",
        "存储芯片、化合物半导体与先进封装",
        ("九峰山实验室", "江城实验室", "华中科技大学"),
        ("化合物半导体", "先进封装", "存储"),
    ),
    Theme(
        "数字医疗",
        "医学影像人工智能、远程诊疗与智慧医院",
        ("华中科技大学同济医学院", "武汉大学中南医院", "武汉产业创新发展研究院"),
        ("医学影像", "智慧医院"),
    ),
    Theme(
        "智能制造",
        "工业互联网、数字孪生与柔性产线",
        ("华中科技大学", "武汉理工大学", "武汉产业创新发展研究院"),
        ("工业互联网", "数字孪生"),
    ),
    Theme(
        "光化学与绿色化工",
        "光催化、光固化材料与绿色化工工艺",
        ("武汉光化学技术研究院", "武汉工程大学"),
        ("光催化", "绿色化工"),
    ),
    Theme(
        "生物育种与智慧农业",
        "种业创新、智慧农业装备与农产品精深加工",
        ("华中农业大学", "洪山实验室"),
        ("种业", "智慧农业"),
    ),
    Theme(
        "空天信息",
        "卫星遥感、空间信息处理与应急测绘",
        ("珞珈实验室", "武汉大学", "中国地质大学（武汉）"),
        ("遥感", "空间信息"),
    ),
    Theme(
        "数字教育与文化科技",
        "智慧教育平台、数字出版与文旅科技融合",
        ("华中师范大学", "武汉大学"),
        ("智慧教育", "数字文创"),
    ),
)

THEMES_BY_NAME: dict[str, Theme] = {t.name: t for t in THEMES}

# Themes a district leans towards; a session there picks one of these more often than not.
DISTRICT_FOCUS: dict[str, tuple[str, ...]] = {
    "donghu_gaoxin": ("光电子信息", "集成电路", "生物医药", "人工智能", "量子科技", "6G"),
    "hongshan": ("人工智能", "北斗", "空天信息", "生物育种与智慧农业", "脑科学与类脑智能"),
    "wuchang": ("人工智能", "数字教育与文化科技", "北斗", "数字医疗"),
    "wuhan_jingkai": ("新能源与智能网联汽车", "智能制造", "高端装备", "低空经济"),
    "jiangxia": ("生物医药", "合成生物", "光化学与绿色化工"),
    "hannan": ("低空经济", "高端装备"),
    "huangpi": ("低空经济", "生物育种与智慧农业"),
    "qingshan": ("氢能", "新材料"),
    "xinzhou": ("新材料", "氢能"),
    "dongxihu": ("生物医药", "智能制造"),
    "caidian": ("数字医疗", "新能源与智能网联汽车"),
    "changjiang_xinqu": ("人工智能", "数字医疗"),
    "jiangan": ("数字医疗", "人工智能"),
    "jianghan": ("人工智能", "数字教育与文化科技"),
    "qiaokou": ("智能制造", "生物医药"),
    "hanyang": ("新能源与智能网联汽车", "智能制造"),
    "donghu_fengjing": ("数字教育与文化科技", "脑科学与类脑智能"),
}

# How the 60 sessions fall over the districts: heavier where the universities and parks are, every code once at least.
DISTRICT_SHARES: dict[str, int] = {
    "donghu_gaoxin": 14,
    "hongshan": 7,
    "wuchang": 6,
    "wuhan_jingkai": 6,
    "jiangan": 3,
    "jianghan": 3,
    "hanyang": 3,
    "jiangxia": 3,
    "qiaokou": 2,
    "qingshan": 2,
    "dongxihu": 2,
    "caidian": 2,
    "huangpi": 2,
    "changjiang_xinqu": 2,
    "hannan": 1,
    "xinzhou": 1,
    "donghu_fengjing": 1,
}

# The unit in a district that brings local companies' demands to a session.
DISTRICT_ORGS: dict[str, str] = {
    "jiangan": "江岸区科技局",
    "jianghan": "江汉区科技局",
    "qiaokou": "硚口区科技局",
    "hanyang": "汉阳区科技局",
    "wuchang": "武昌区科技局",
    "qingshan": "青山区科技局",
    "hongshan": "洪山区科技局",
    "dongxihu": "东西湖区科技局",
    "hannan": "汉南区科技局",
    "caidian": "蔡甸区科技局",
    "jiangxia": "江夏区科技局",
    "huangpi": "黄陂区科技局",
    "xinzhou": "新洲区科技局",
    "donghu_gaoxin": "东湖高新区科技创新局",
    "wuhan_jingkai": "武汉经开区科技创新局",
    "changjiang_xinqu": "长江新区科技创新局",
    "donghu_fengjing": "东湖风景区管委会",
}

VENUES: tuple[Venue, ...] = (
    Venue(
        "donghu_gaoxin",
        "光谷科技会展中心·多功能厅",
        "武汉市东湖新技术开发区光谷大道与高新大道交汇处",
        30.4745,
        114.4262,
    ),
    Venue("donghu_gaoxin", "光谷创新天地·路演中心", "武汉市东湖新技术开发区高新大道766号", 30.4822, 114.4235),
    Venue("donghu_gaoxin", "光谷生物城·创新园会议中心", "武汉市东湖新技术开发区高新大道666号", 30.4853, 114.4930),
    Venue("donghu_gaoxin", "武汉未来科技城·科技成果转化中心", "武汉市东湖新技术开发区高新大道999号", 30.4780, 114.5330),
    Venue("donghu_gaoxin", "光谷金融港·科创路演厅", "武汉市东湖新技术开发区光谷大道77号", 30.4640, 114.4210),
    Venue("hongshan", "华中科技大学·科技成果转化大楼报告厅", "武汉市洪山区珞喻路1037号", 30.5130, 114.4130),
    Venue("hongshan", "武汉理工大学科技园·路演厅", "武汉市洪山区珞狮路205号", 30.5120, 114.3480),
    Venue("hongshan", "华中农业大学·国际学术交流中心", "武汉市洪山区狮子山街1号", 30.4750, 114.3560),
    Venue("hongshan", "中国地质大学（武汉）科技园·会议中心", "武汉市洪山区鲁磨路388号", 30.5220, 114.3990),
    Venue("wuchang", "武汉大学·国际学术交流中心", "武汉市武昌区八一路299号", 30.5400, 114.3650),
    Venue("wuchang", "武昌滨江科创大厦·会议中心", "武汉市武昌区临江大道96号", 30.5580, 114.3080),
    Venue("wuchang", "长江文化科创中心·多功能厅", "武汉市武昌区中北路108号", 30.5570, 114.3450),
    Venue("wuhan_jingkai", "中国车谷创新中心·报告厅", "武汉经济技术开发区东风大道36号", 30.5120, 114.1730),
    Venue("wuhan_jingkai", "车谷科创园·路演中心", "武汉经济技术开发区沌阳大道339号", 30.5020, 114.1620),
    Venue(
        "wuhan_jingkai", "智能网联汽车测试示范区·展示中心", "武汉经济技术开发区军山街通顺大道18号", 30.4020, 114.1120
    ),
    Venue("jiangan", "汉口滨江国际商务区·创新中心", "武汉市江岸区中山大道1505号", 30.6210, 114.3110),
    Venue("jiangan", "江岸区科技成果转化服务中心", "武汉市江岸区解放大道1777号", 30.6200, 114.2960),
    Venue("jianghan", "江汉经济开发区·创新服务中心", "武汉市江汉区江兴路22号", 30.6250, 114.2320),
    Venue("jianghan", "武汉人才大厦·报告厅", "武汉市江汉区建设大道568号", 30.5990, 114.2700),
    Venue("qiaokou", "汉江湾科创中心·会议厅", "武汉市硚口区古田二路99号", 30.5950, 114.2150),
    Venue("hanyang", "武汉国际博览中心·会议中心", "武汉市汉阳区鹦鹉大道619号", 30.5260, 114.2270),
    Venue("hanyang", "四新数字经济产业园·路演厅", "武汉市汉阳区四新大道26号", 30.5230, 114.2140),
    Venue("qingshan", "长江绿色发展科创中心·报告厅", "武汉市青山区和平大道1240号", 30.6330, 114.3920),
    Venue("dongxihu", "临空港科创中心·报告厅", "武汉市东西湖区金银湖路18号", 30.6540, 114.1890),
    Venue("hannan", "武汉通航小镇·低空经济展示中心", "武汉市汉南区通航大道6号", 30.3180, 114.0650),
    Venue("caidian", "中法武汉生态示范城·创新中心", "武汉市蔡甸区中法大道1号", 30.5050, 114.0150),
    Venue("jiangxia", "江夏实验室·学术交流中心", "武汉市江夏区庙山大道18号", 30.4030, 114.3380),
    Venue("jiangxia", "大桥新区科创园·会议厅", "武汉市江夏区文化大道99号", 30.3800, 114.3300),
    Venue("huangpi", "盘龙城科创中心·报告厅", "武汉市黄陂区盘龙城经济开发区巨龙大道58号", 30.6900, 114.2580),
    Venue("xinzhou", "阳逻开发区创新服务中心", "武汉市新洲区阳逻街港城大道8号", 30.6470, 114.5520),
    Venue("changjiang_xinqu", "长江新区谌家矶科创中心", "武汉市江岸区谌家矶大道66号", 30.6680, 114.3760),
    Venue("donghu_fengjing", "东湖国际会议中心·楚天厅", "武汉市东湖生态旅游风景区沿湖大道16号", 30.5590, 114.3920),
)

VENUES_BY_DISTRICT: dict[str, tuple[Venue, ...]] = {
    code: tuple(v for v in VENUES if v.district == code) for code in DISTRICT_SHARES
}
VENUES_BY_NAME: dict[str, Venue] = {v.name: v for v in VENUES}

# Units that join a session as co-organisers (plan §二(三)4: 武汉投控集团 leads, 武汉人才集团 supports).
CO_HOSTS: tuple[str, ...] = ("武汉投控集团", "武汉人才集团", "武汉产业创新发展研究院")

# Session titles: "武创荟·{theme}专场｜{format}（第n期）".
SUPPLY_FORMATS: tuple[str, ...] = ("高校院所科技成果对接会", "校企双进对接会", "科技成果发布会")
LAB_FORMAT = "湖北实验室成果发布会"
INSTITUTE_FORMAT = "新型研发机构成果推介会"
DEMAND_FORMAT = "企业技术需求揭榜对接会"

SESSION_MIDDLES: tuple[str, ...] = (
    "活动设置成果路演、需求发布和一对一洽谈三个环节，技术经理人全程跟进对接。",
    "现场安排专家点评与投资机构提问，意向项目将纳入重点成果项目库跟踪服务。",
    "武汉投控集团科创基金将派员参加，为早期项目提供概念验证和融资对接。",
    "成果均已在科技创新供应链平台登记，会后可在平台继续发榜揭榜、预约洽谈。",
)
SESSION_ENDINGS: tuple[str, ...] = (
    "欢迎相关领域企业技术负责人、科研人员和投资机构报名参加。",
    "报名成功后请凭二维码电子票入场。",
    "现场将签约一批校企合作项目。",
)

# Surnames with pinyin, most frequent first (a few common in Hubei are included).
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("胡", "hu"),
    ("朱", "zhu"),
    ("高", "gao"),
    ("林", "lin"),
    ("何", "he"),
    ("郭", "guo"),
    ("马", "ma"),
    ("罗", "luo"),
    ("梁", "liang"),
    ("宋", "song"),
    ("郑", "zheng"),
    ("谢", "xie"),
    ("韩", "han"),
    ("唐", "tang"),
    ("冯", "feng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("袁", "yuan"),
    ("潘", "pan"),
    ("蔡", "cai"),
    ("蒋", "jiang"),
    ("余", "yu"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("汪", "wang"),
    ("熊", "xiong"),
    ("雷", "lei"),
    ("万", "wan"),
    ("夏", "xia"),
    ("涂", "tu"),
    ("邓", "deng"),
    ("魏", "wei"),
    ("方", "fang"),
)

GIVEN_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("婷", "ting"),
    ("浩", "hao"),
    ("宇", "yu"),
    ("欣", "xin"),
    ("晨", "chen"),
    ("博", "bo"),
    ("文", "wen"),
    ("华", "hua"),
    ("佳", "jia"),
    ("思", "si"),
    ("雨", "yu"),
    ("子", "zi"),
    ("涵", "han"),
    ("轩", "xuan"),
    ("睿", "rui"),
    ("嘉", "jia"),
    ("怡", "yi"),
    ("琪", "qi"),
    ("俊", "jun"),
    ("凯", "kai"),
    ("鹏", "peng"),
    ("飞", "fei"),
    ("志", "zhi"),
    ("国", "guo"),
    ("建", "jian"),
    ("红", "hong"),
    ("玲", "ling"),
    ("慧", "hui"),
    ("倩", "qian"),
    ("晓", "xiao"),
    ("亮", "liang"),
    ("斌", "bin"),
    ("昊", "hao"),
    ("天", "tian"),
    ("一", "yi"),
    ("可", "ke"),
    ("颖", "ying"),
    ("楠", "nan"),
    ("瑶", "yao"),
    ("振", "zhen"),
    ("海", "hai"),
    ("立", "li"),
    ("春", "chun"),
    ("新", "xin"),
    ("维", "wei"),
    ("诗", "shi"),
    ("梓", "zi"),
    ("锦", "jin"),
    ("航", "hang"),
)

MOBILE_PREFIXES: tuple[str, ...] = (
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "182",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "189",
    "177",
    "199",
)

# Universities and research units attendees come from, with the label of their (example) mail host.
UNIVERSITIES: tuple[tuple[str, str], ...] = (
    ("华中科技大学", "hust"),
    ("武汉大学", "whu"),
    ("武汉理工大学", "whut"),
    ("中国地质大学（武汉）", "cug"),
    ("华中农业大学", "hzau"),
    ("华中师范大学", "ccnu"),
    ("湖北大学", "hubu"),
    ("武汉科技大学", "wust"),
    ("武汉工程大学", "wit"),
    ("湖北工业大学", "hbut"),
    ("江汉大学", "jhun"),
    ("武汉纺织大学", "wtu"),
    ("光谷实验室", "ovl"),
    ("东湖实验室", "dhl"),
    ("江夏实验室", "jxl"),
    ("洪山实验室", "hsl"),
    ("九峰山实验室", "jfs"),
    ("武汉产业创新发展研究院", "wiid"),
    ("武汉量子技术研究院", "wqi"),
    ("武汉光化学技术研究院", "wpi"),
)

HOSPITALS: tuple[str, ...] = (
    "华中科技大学同济医学院附属同济医院",
    "华中科技大学同济医学院附属协和医院",
    "武汉大学人民医院",
    "武汉大学中南医院",
    "武汉市中心医院",
    "武汉市第一医院",
    "武汉儿童医院",
)

INVESTORS: tuple[str, ...] = (
    "武汉投控集团",
    "武汉金控集团",
    "武汉人才集团",
    "武汉科创天使投资基金管理有限公司",
    "湖北楚天创业投资有限公司",
    "武汉光谷创新投资基金管理有限公司",
    "武汉汉江科技成果转化基金管理有限公司",
)

# Invented company names: "{place}{brand}{trade}有限公司".
COMPANY_PLACES: tuple[str, ...] = ("武汉", "武汉", "武汉", "湖北")
COMPANY_BRANDS: tuple[str, ...] = (
    "锐光",
    "华芯",
    "楚天",
    "江城",
    "睿思",
    "英卓",
    "启明",
    "瑞科",
    "博远",
    "中晟",
    "汉新",
    "楚芯",
    "云帆",
    "智航",
    "鼎泰",
    "恒润",
    "嘉禾",
    "天问",
    "星源",
    "珞瑜",
    "知行",
    "青禾",
    "光象",
    "长澜",
    "汉峰",
    "微纳",
    "铂睿",
    "卓研",
    "思源",
    "衡宇",
    "科迈",
    "菁华",
    "凌云",
    "澜图",
    "九合",
    "楚材",
)
COMPANY_TRADES: tuple[str, ...] = (
    "光电科技",
    "生物医药",
    "智能装备",
    "新材料",
    "半导体",
    "信息技术",
    "医疗器械",
    "新能源科技",
    "数据科技",
    "机器人",
    "激光技术",
    "汽车电子",
    "航空科技",
    "生物科技",
    "检测技术",
    "技术转移服务",
)

PUBLIC_MAIL_HOSTS: tuple[str, ...] = ("example.com", "example.net", "example.org")


@dataclass(frozen=True, slots=True)
class Occasion:
    """One competition, fair, roadshow or training course of the year (not a 武创荟 session)."""

    title: str  # "{year}" is filled in
    kind: str
    series: str
    venue: str  # a name in VENUES
    host: str
    tags: tuple[str, ...]
    description: str
    month: int
    day: int
    start: str  # local time "HH:MM" on the first day
    end: str  # local time on the last day
    capacity: int
    fill: float  # share of the capacity that registers (once the event is past)
    days: int = 1
    requires_approval: bool = False
    closes_days_before: int | None = None
    # Kept at least this many days ahead of now: moved forward when its date is nearer or past.
    lead_days: int | None = None
    # Over-subscribed on purpose: capacity + this many register, then one confirmed seat is given back.
    waitlist_extra: int = 0


OCCASIONS: tuple[Occasion, ...] = (
    # Competitions.
    Occasion(
        "{year}武创源颠覆性技术创新大赛·初赛（光电子信息与集成电路赛道）",
        "competition",
        "wuchuangyuan",
        "光谷创新天地·路演中心",
        "武汉市科技创新局、武汉产业创新发展研究院",
        ("颠覆性技术", "光电子信息", "集成电路", "大赛"),
        "武创源颠覆性技术创新大赛面向全球征集具有颠覆性、前瞻性的原创技术项目。本场初赛聚焦光电子信息与集成电路赛道，"
        "入围项目现场答辩，评审团按技术颠覆性、团队能力和产业化前景评分。晋级项目进入总决赛，并可获得概念验证支持。",
        6,
        16,
        "09:00",
        "17:30",
        200,
        0.5,
        days=2,
        closes_days_before=3,
    ),
    Occasion(
        "{year}武创源颠覆性技术创新大赛·总决赛",
        "competition",
        "wuchuangyuan",
        "光谷科技会展中心·多功能厅",
        "武汉市科技创新局、武汉投控集团",
        ("颠覆性技术", "大赛", "总决赛"),
        "总决赛汇聚各赛道晋级的颠覆性技术项目，连续三天进行路演答辩和终审评议。"
        "大赛同期举办颠覆性技术论坛和投融资对接会，获奖项目可优先入驻概念验证中心和中试平台。"
        "欢迎投资机构、产业链龙头企业和科研人员现场观摩。",
        9,
        22,
        "09:00",
        "17:30",
        300,
        0.7,
        days=3,
        closes_days_before=3,
    ),
    Occasion(
        "{year}“英雄杯”创新创业大赛·复赛（智能制造与新材料组）",
        "competition",
        "yingxiongbei",
        "车谷科创园·路演中心",
        "武汉市科技创新局、武汉人才集团",
        ("创新创业", "智能制造", "新材料", "大赛"),
        "“英雄杯”创新创业大赛面向海内外创新创业团队，以赛引才、以赛促投。"
        "本场复赛集中展示智能制造与新材料领域的初创企业和团队项目，评委由产业专家和投资人组成。复赛优胜项目将进入总决赛。",
        8,
        18,
        "09:00",
        "17:30",
        150,
        0.6,
        days=2,
        closes_days_before=3,
    ),
    Occasion(
        "{year}“英雄杯”创新创业大赛·总决赛",
        "competition",
        "yingxiongbei",
        "武汉国际博览中心·会议中心",
        "武汉市科技创新局、武汉人才集团、武汉投控集团",
        ("创新创业", "大赛", "总决赛"),
        "总决赛将评出“英雄杯”各组别一、二、三等奖，获奖项目可获得落地奖励和科技创新母子基金群的优先投资对接。"
        "观摩席位有限，报名需经组委会审核，审核通过后发放电子票。",
        12,
        15,
        "09:00",
        "17:30",
        240,
        0.4,
        days=2,
        requires_approval=True,
        closes_days_before=3,
        lead_days=10,
    ),
    # Matchmaking fairs.
    Occasion(
        "{year}产医融合对接会·数字医疗专场",
        "fair",
        "chanyi",
        "汉口滨江国际商务区·创新中心",
        "武汉市科技创新局、武汉市卫生健康委员会",
        ("产医融合", "数字医疗", "医学影像"),
        "数字医疗专场由市属三甲医院发布影像诊断、慢病管理和智慧病房等临床需求，数字医疗企业现场对接。"
        "会上设置数据合规和产品入院咨询台，意向合作由技术经理人跟进落实。",
        5,
        21,
        "09:00",
        "17:00",
        200,
        0.7,
    ),
    Occasion(
        "{year}产医融合对接会",
        "fair",
        "chanyi",
        "光谷生物城·创新园会议中心",
        "武汉市科技创新局、武汉市卫生健康委员会",
        ("产医融合", "生物医药", "医疗器械", "数字医疗"),
        "产医融合对接会搭建医疗机构与企业之间的创新桥梁，由医院发布临床需求，医疗器械、创新药和数字医疗企业现场对接。"
        "会上发布一批医工交叉成果，并设置临床试验、注册申报和产品入院等专题咨询台。欢迎医疗机构、企业和投资机构报名参加。",
        11,
        12,
        "09:00",
        "17:30",
        300,
        0.6,
    ),
    # Roadshows.
    Occasion(
        "科技成果路演·光谷站",
        "roadshow",
        "luyan",
        "光谷金融港·科创路演厅",
        "武汉投控集团、东湖高新区科技创新局",
        ("路演", "成果转化", "投融资"),
        "本场路演邀请10个来自高校院所和科技型企业的成果项目登台，每个项目路演8分钟、答辩5分钟。"
        "投资机构和产业方现场点评，意向合作可在会后一对一洽谈。",
        4,
        23,
        "14:00",
        "17:30",
        120,
        0.75,
    ),
    Occasion(
        "科技成果路演·车谷站",
        "roadshow",
        "luyan",
        "中国车谷创新中心·报告厅",
        "武汉投控集团、武汉经开区科技创新局",
        ("路演", "智能网联汽车", "汽车电子"),
        "聚焦智能网联汽车、汽车电子和先进制造领域，8个成果项目与整车及零部件企业现场对接。"
        "路演结束后安排企业参观测试示范区，并开展技术需求闭门座谈。",
        6,
        25,
        "14:00",
        "17:30",
        120,
        0.7,
    ),
    Occasion(
        "基金投资人路演专场｜科技创新母子基金群",
        "roadshow",
        "luyan",
        "武昌滨江科创大厦·会议中心",
        "武汉投控集团、武汉金控集团",
        ("路演", "投融资", "科创基金"),
        "科技创新母子基金群管理机构介绍投资方向和申报方式，12个已完成概念验证的项目面向投资人路演。"
        "会后组织投资人与项目团队闭门交流。",
        9,
        9,
        "14:00",
        "17:30",
        100,
        0.8,
    ),
    Occasion(
        "湖北实验室成果路演专场",
        "roadshow",
        "luyan",
        "华中科技大学·科技成果转化大楼报告厅",
        "光谷实验室、东湖实验室、江夏实验室、洪山实验室",
        ("路演", "湖北实验室", "重大成果"),
        "光谷实验室、东湖实验室、江夏实验室、洪山实验室集中发布一批可转化的重大科技成果，实验室团队逐项路演。"
        "现场邀请产业链龙头企业和投资机构参与评议，推动成果在汉就地转化。",
        10,
        22,
        "09:30",
        "12:00",
        150,
        0.7,
    ),
    Occasion(
        "科技成果路演·长江新区站",
        "roadshow",
        "luyan",
        "长江新区谌家矶科创中心",
        "武汉投控集团、长江新区科技创新局",
        ("路演", "人工智能", "数字医疗"),
        "长江新区站聚焦人工智能与数字医疗，8个成果项目面向新区企业和投资机构路演。"
        "新区将对签约落地项目给予场地和应用场景支持。",
        12,
        3,
        "14:00",
        "17:30",
        100,
        0.5,
        lead_days=5,
    ),
    # Technology-broker training.
    Occasion(
        "技术经理人初级培训班（第1期）",
        "training",
        "jishu-jingliren",
        "武汉理工大学科技园·路演厅",
        "武汉市科技创新局、武汉人才集团",
        ("技术经理人", "培训", "初级"),
        "初级培训班系统讲授技术转移政策法规、知识产权运营、技术合同登记和成果评价等基础课程，共24学时。"
        "学员需为在汉企业、高校院所或技术转移机构的在职人员，报名经审核后确认。"
        "结业考核合格者纳入武汉市技术经理人培育名录。",
        3,
        17,
        "09:00",
        "17:00",
        120,
        0.95,
        days=3,
        requires_approval=True,
        closes_days_before=3,
    ),
    Occasion(
        "技术经理人初级培训班（第2期）",
        "training",
        "jishu-jingliren",
        "武汉大学·国际学术交流中心",
        "武汉市科技创新局、武汉人才集团",
        ("技术经理人", "培训", "初级"),
        "初级培训班系统讲授技术转移政策法规、知识产权运营、技术合同登记和成果评价等基础课程，共24学时。"
        "学员需为在汉企业、高校院所或技术转移机构的在职人员，报名经审核后确认。",
        6,
        9,
        "09:00",
        "17:00",
        120,
        0.9,
        days=3,
        requires_approval=True,
        closes_days_before=3,
    ),
    Occasion(
        "技术经理人中级研修班（第1期）",
        "training",
        "jishu-jingliren",
        "中国地质大学（武汉）科技园·会议中心",
        "武汉市科技创新局、武汉投控集团",
        ("技术经理人", "培训", "中级"),
        "中级研修班面向已取得初级结业证书的技术经理人，以概念验证、中试熟化和投融资对接中的真实案例开展研讨，共16学时。"
        "采用小班教学，名额有限，额满后进入候补。",
        9,
        15,
        "09:00",
        "17:00",
        40,
        0.95,
        days=2,
    ),
    Occasion(
        "技术经理人高级研修班·概念验证与中试专题",
        "training",
        "jishu-jingliren",
        "光谷生物城·创新园会议中心",
        "武汉市科技创新局、武汉投控集团",
        ("技术经理人", "培训", "高级", "概念验证"),
        "高级研修班围绕概念验证中心和中试平台的运营，邀请平台负责人和投资人讲授项目筛选、熟化和作价入股实务。"
        "学员需具备两年以上技术转移从业经历，报名经审核后确认。",
        10,
        27,
        "09:00",
        "17:00",
        40,
        0.9,
        days=2,
        requires_approval=True,
        closes_days_before=3,
    ),
    Occasion(
        "技术经理人中级研修班（第2期）",
        "training",
        "jishu-jingliren",
        "长江文化科创中心·多功能厅",
        "武汉市科技创新局、武汉投控集团",
        ("技术经理人", "培训", "中级"),
        "中级研修班面向已取得初级结业证书的技术经理人，以概念验证、中试熟化和投融资对接中的真实案例开展研讨，共16学时。"
        "小班教学，30个名额，额满后进入候补，有人取消时按候补顺序递补。",
        12,
        3,
        "09:00",
        "17:00",
        30,
        1.0,
        days=2,
        lead_days=7,
        waitlist_extra=6,
    ),
    Occasion(
        "技术经理人初级培训班（第3期）",
        "training",
        "jishu-jingliren",
        "光谷创新天地·路演中心",
        "武汉市科技创新局、武汉人才集团",
        ("技术经理人", "培训", "初级"),
        "初级培训班系统讲授技术转移政策法规、知识产权运营、技术合同登记和成果评价等基础课程，共24学时。"
        "学员需为在汉企业、高校院所或技术转移机构的在职人员，报名经审核后确认。",
        12,
        8,
        "09:00",
        "17:00",
        100,
        0.7,
        days=3,
        requires_approval=True,
        closes_days_before=2,
        lead_days=12,
    ),
)

CANCEL_REASON = "因主讲团队行程调整，本期活动取消，后续将另行安排，已报名者无需任何操作。"
REJECT_REASONS: tuple[str, ...] = (
    "报名信息不完整，请补充工作单位和从业经历后报名下一期。",
    "本期名额优先安排在汉企业和技术转移机构人员，欢迎报名下一期。",
)


# --- Technology-broker (技术经理人) training: courses, brokers, the ledger's reasons ---------------

# Where the training programme meets; kept out of VENUES so the rest of the demo draws as before.
TRAINING_VENUES: tuple[Venue, ...] = (
    Venue("wuchang", "武汉科技大市场·技术转移培训中心", "武汉市武昌区中北路86号", 30.5560, 114.3430),
)


@dataclass(frozen=True, slots=True)
class SessionSpec:
    title: str
    hours: str


@dataclass(frozen=True, slots=True)
class CourseSpec:
    """A course of the training programme; ``wuchuang.demo`` dates it relative to today."""

    code: str  # a prefix: the term is appended (JSJL-CJ-2026A)
    title: str  # "{term}" is filled in (2026秋季)
    level: str | None
    venue: str  # a name in TRAINING_VENUES or VENUES
    host: str
    description: str
    capacity: int
    sessions: tuple[SessionSpec, ...]
    modules: tuple[tuple[str, str, str], ...]  # (code, title, hours), done online
    # Intermediate sessions credit at sign-out, after this many minutes inside (None: at entry).
    min_stay_minutes: int | None = None


JUNIOR_SESSIONS: tuple[SessionSpec, ...] = (
    SessionSpec("技术转移政策法规与技术合同认定登记", "6"),
    SessionSpec("知识产权运营与专利价值评估", "6"),
    SessionSpec("科技成果评价与作价入股实务", "6"),
    SessionSpec("技术交易谈判与成果路演实训", "6"),
)
JUNIOR_MODULES: tuple[tuple[str, str, str], ...] = (
    ("M1", "科技成果转化法律法规精讲（线上）", "8"),
    ("M2", "技术经理人职业道德与典型案例（线上）", "8"),
)
JUNIOR_DESCRIPTION = (
    "初级培训班共4次集中面授（每次6学时）和2门线上课程（各8学时），合计40学时，"
    "讲授技术转移政策法规、技术合同认定登记、知识产权运营和成果评价等基础内容。"
    "面授签到即记学时，学时累计达到40学时即取得初级技术经理人证书。报名确认后的电子票即为各次面授的入场凭证。"
)

JUNIOR_COURSE = CourseSpec(
    "JSJL-CJ",
    "技术经理人初级培训班（{term}）",
    "junior",
    "武汉科技大市场·技术转移培训中心",
    "武汉市科技创新局、武汉科技大市场",
    JUNIOR_DESCRIPTION,
    30,
    JUNIOR_SESSIONS,
    JUNIOR_MODULES,
)
INTERMEDIATE_COURSE = CourseSpec(
    "JSJL-ZJ",
    "技术经理人中级研修班（{term}）",
    "intermediate",
    "光谷创新天地·路演中心",
    "武汉市科技创新局、武汉投控集团",
    "中级研修班面向已取得初级证书的技术经理人，3次集中研修（每次7学时，签退时在场满5小时方记学时）"
    "和1门线上案例课（10学时），围绕概念验证、中试熟化和投融资对接开展实训。累计满100学时可取得中级证书。",
    24,
    (
        SessionSpec("概念验证与中试熟化：从样品到产品", "7"),
        SessionSpec("科技金融与投融资对接", "7"),
        SessionSpec("技术转移项目全流程实训与结业答辩", "7"),
    ),
    (("M1", "国内外技术转移典型案例研讨（线上）", "10"),),
    min_stay_minutes=300,
)
# The next junior term: a small class, full, with people waiting.
NEXT_JUNIOR_COURSE = CourseSpec(
    "JSJL-CJ",
    "技术经理人初级培训班（{term}·小班）",
    "junior",
    "武汉科技大市场·技术转移培训中心",
    "武汉市科技创新局、武汉科技大市场",
    JUNIOR_DESCRIPTION + "本期为小班教学，15个名额，额满后进入候补，有人退课时按候补顺序递补。",
    15,
    JUNIOR_SESSIONS,
    JUNIOR_MODULES,
)

# Where brokers work: technology-transfer offices, exchanges, service firms (invented or generic).
BROKER_ORGS: tuple[str, ...] = (
    "武汉大学技术转移中心",
    "华中科技大学技术转移中心",
    "武汉理工大学技术转移中心",
    "华中农业大学技术转移中心",
    "中国地质大学（武汉）技术转移中心",
    "湖北大学科技成果转化中心",
    "湖北技术交易所",
    "武汉知识产权交易所",
    "武汉科技大市场",
    "武汉产业创新发展研究院",
    "光谷技术转移服务有限公司",
    "汉江湾科技成果转化服务有限公司",
    "楚才知识产权代理有限公司",
    "武汉长江科技成果转化促进中心",
)

# Topics brokers work in, beside their district's leanings (DISTRICT_FOCUS).
BROKER_SPECIALTIES: tuple[str, ...] = (
    "人工智能",
    "生物医药",
    "光电子信息",
    "新材料",
    "智能制造",
    "集成电路",
    "新能源与智能网联汽车",
    "数字医疗",
)

PRIOR_HOURS_REASONS: tuple[str, ...] = (
    "2025年湖北省技术经理人能力提升培训（省科技厅）学时认定",
    "国家技术转移人才培养基地（湖北）线上课程学时认定",
)
MAKEUP_REASON = "补课：第{session}讲缺席，已参加湖北技术交易所同主题课程，学时认定"
DUPLICATE_GRANT_REASON = "在武创荟成果对接会担任项目点评，学时认定"
DUPLICATE_CORRECTION_REASON = "同一活动学时重复录入，予以核减"
LATE_CORRECTION_REASON = "迟到约2小时，按实际在场时长核减"
