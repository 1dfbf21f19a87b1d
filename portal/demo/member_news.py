"""Logged-in demo news (SPEC H2, H8): 署本部 / 分區業務公告事項 and the member 聯絡窗口 tree.

`load(storage)` loads the seed's announcements (data/demo/member_announcements.toml),
generates a deterministic archive of NHIA-style notices around them, and loads
data/demo/member_contacts.toml into the "member" contact tree. Idempotent:
announcements are matched by (kind, title, publish_at), contact groups by
(audience, parent, name); a re-run creates and changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta

from portal import demo
from portal.db import database
from portal.logic import announcements as announcement_logic
from portal.logic.roc_dates import ROC_OFFSET, fee_month, taipei_to_utc
from portal.logic.sanitize import clean_html
from portal.models import Announcement, Contact, ContactGroup

# ─────────────────────────────── data tables ───────────────────────────────

# The day the archive is generated back from (fixed, so every run yields the same titles).
ANCHOR = date(2026, 11, 22)
RECENT_DAYS = 3 * 365
OLDER_SHARE = 0.04     # dated 3–7 years back
WINDOW_SHARE = 0.05    # publish window not open now: starts later, or has ended
ATTACH_CHANCE = 0.42   # a topic that names attachments gets them (≈10% of all notices)
LINK_SHARE = 0.18      # with an extra paragraph linking to an NHIA site

# 署本部公告事項 per 服務項目 category (A, B, E, H weighted up).
HQ_QUOTA = {"A": 32, "B": 28, "C": 12, "D": 14, "E": 26, "F": 10, "G": 10, "H": 26,
            "I": 12, "J": 12, "K": 12, "L": 16, "M": 14, "N": 8, "O": 10}
REGIONAL_PER_REGION = 58

HQ_DEPARTMENT = {"A": "醫務管理組", "B": "醫審及藥材組", "C": "醫務管理組", "D": "醫務管理組",
                 "E": "醫務管理組", "F": "醫務管理組", "G": "醫務管理組", "H": "資訊組",
                 "I": "醫審及藥材組", "J": "醫審及藥材組", "K": "資訊組", "L": "醫審及藥材組",
                 "M": "醫務管理組", "N": "醫務管理組", "O": "資訊組"}

# Wording for "see the attachment" when a notice was drawn without one.
NO_ATTACHMENT = (("詳如附件", "已公布於本署全球資訊網"), ("請參閱附件", "請參閱本署全球資訊網"))

# code -> (業務組, short area name, phone pattern, first extension, meeting room)
REGIONS = {
    "taipei": ("臺北業務組", "臺北區", "(02)2191-2006分機{ext}", 6000, "臺北業務組9樓第一會議室"),
    "north": ("北區業務組", "北區", "(03)433-9111分機{ext}", 2000, "北區業務組5樓大禮堂"),
    "central": ("中區業務組", "中區", "(04)2258-3988分機{ext}", 7000, "中區業務組2樓第二會議室"),
    "south": ("南區業務組", "南區", "(06)224-5678分機{ext}", 1000, "南區業務組6樓禮堂"),
    "kaoping": ("高屏業務組", "高屏區", "(07)231-5151分機{ext}", 5000, "高屏業務組10樓第一會議室"),
    "east": ("東區業務組", "東區", "(03)833-2111分機{ext}", 2000, "東區業務組3樓會議室"),
}
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾彭游詹胡施沈余盧梁顏柯翁魏孫戴范方宋鄧"

WEEKDAYS = "一二三四五六日"
NUMERALS = "一二三四五六七八九十"
HOURS = ("22:00至翌日06:00", "18:00至22:00", "00:00至06:00", "20:00至翌日02:00", "23:00至翌日05:00")
CLASS_TIMES = ("09:30至12:00", "14:00至16:30", "13:30至17:00", "10:00至12:00")
HOLIDAYS = ((1, 1, "元旦"), (1, 28, "春節"), (2, 28, "和平紀念日"), (4, 4, "兒童節及清明節"),
            (6, 1, "端午節"), (9, 25, "中秋節"), (10, 10, "國慶日"))
BRANCHES = ("西醫基層", "醫院", "牙醫門診", "中醫門診", "門診透析")
PLANS = ("全民健康保險家庭醫師整合性照護計畫", "糖尿病及初期慢性腎臟病照護整合方案", "安寧共同照護試辦方案",
         "C型肝炎全口服新藥治療", "呼吸器依賴患者整合性照護前瞻性支付方式", "早期療育門診醫療給付改善方案",
         "思覺失調症醫療給付改善方案", "全民健康保險代謝症候群防治計畫", "氣喘醫療給付改善方案",
         "急診品質提升方案", "住院整合照護服務試辦計畫")
SYSTEMS = ("醫療費用申報", "健保卡就醫資料上傳", "健保醫療資訊雲端查詢系統", "院所資料交換", "電子轉診平台",
           "特約機構作業", "IC卡就醫上傳檢核結果查詢", "醫療費用支付", "電子化專業審查", "住院病例組合編審服務")
COURSES = ("醫療費用申報實務", "健保卡資料登錄及上傳", "電子轉診平台操作", "雲端查詢系統臨床應用",
           "專業審查常見缺失", "居家醫療照護整合計畫", "院所資訊安全防護", "Tw-DRGs申報實務",
           "檢驗(查)結果上傳", "中醫門診總額支付制度", "新特約院所VPN作業", "抽審案件電子化送審")
FIELDS = ("就醫序號", "醫令調劑方式", "特定治療項目代號", "轉診轉入院所代號", "給藥日份",
          "慢性病連續處方箋有效期間總處方日份", "實際提供醫療服務之醫事人員ID", "原處方就醫序號", "檢驗(查)結果上傳註記")
CHECKS = ("主診斷碼與性別邏輯", "醫令數量與給藥日份一致性", "住院日數與出院日期", "部分負擔代碼",
          "醫事人員執業登記", "同日重複申報", "特定治療項目與診療項目對應")
DRUG_BRANDS = ("Amlocor", "Rosuvan", "Metforin", "Losarin", "Clopidex", "Atorvin", "Esomep", "Levoxin",
               "Cefurin", "Gabapen", "Valsarin", "Sitaglin", "Montelin", "Famotin", "Allopur", "Ezetin",
               "Bisocor", "Pregalin", "Ondanex", "Tamsulin")
DRUG_FORMS = (("F.C. Tablets", "mg"), ("Capsules", "mg"), ("ER Tablets", "mg"), ("Injection", "mg/mL"),
              ("Oral Solution", "mg/mL"))
FIRMS = ("台灣福安製藥股份有限公司", "聯合康泰藥品股份有限公司", "永昌生技藥業股份有限公司", "瑞士藥廠股份有限公司",
         "宏恩化學製藥股份有限公司", "日新國際醫藥股份有限公司", "嘉禾藥品股份有限公司")
MATERIALS = ("人工髖關節", "塗藥血管支架", "人工水晶體", "脊椎固定器", "心律調節器", "人工膝關節", "止血用敷料")
ABNORMAL = (("A010", "讀卡機故障"), ("A020", "網路故障造成讀卡機無法使用"), ("A030", "安全模組故障造成讀卡機無法使用"),
            ("B000", "卡片不良(表面正常,晶片異常)"), ("C000", "停電"), ("D000", "醫療資訊系統(HIS)當機"),
            ("E000", "健保署資訊系統當機"), ("G000", "新特約院所VPN尚未開通"))
PAY_DOCS = ("核定通知書", "暫付通知書", "核減明細表", "補付通知書", "扣款明細表", "總額預算收入計算過程明細表")
FEATURES = ("回復轉診單", "轉診單狀態通知", "批次查詢轉入個案", "轉診單列印QR Code", "轉診附件影像上傳")
OPS = ("申報案件相關檔案批次下載", "未列項費用申報上傳結果查詢", "抽審案件單筆/批次上傳結果查詢", "申報資料刪除紀錄查詢",
       "ICD10編碼實作資料上傳查詢", "費用子流程查詢")
C_ITEMS = ("病床異動", "窗口聯絡人", "診療科別", "醫事人員在職訓練檔案上傳", "特殊設備", "休診作業", "院長信箱確認碼")
LAB_ITEMS = ("糖化血色素(HbA1c)", "低密度脂蛋白膽固醇(LDL-C)", "腎絲球過濾率(eGFR)", "C型肝炎病毒量(HCV RNA)",
             "胸部X光報告", "腹部超音波報告")
CLOUD_TABS = ("過敏藥物紀錄", "特定管制藥品用藥紀錄", "出院病摘", "復健醫療紀錄", "中醫用藥紀錄", "疫苗接種紀錄")
DRUG_CLASSES = ("免疫調節劑", "抗腫瘤藥物", "生物製劑", "罕見疾病用藥", "抗凝血劑", "高價抗生素")
LINKS = (("本署全球資訊網", "https://www.nhi.gov.tw/"),
         ("健保資訊網服務系統(VPN)", "https://medvpn.nhi.gov.tw/iwse5000/IWSE5001S01.aspx"))
FDA_LINK = '<a href="https://www.fda.gov.tw/">https://www.fda.gov.tw/</a>'
CDC_LINK = '<a href="https://www.cdc.gov.tw/">https://www.cdc.gov.tw/</a>'


@dataclass(frozen=True)
class Topic:
    """A kind of notice: title, keywords and paragraphs are format strings over `slots()`.

    A paragraph "@points" shows `points` as a list; "@table" shows the table named by `table`.
    """

    title: str
    keywords: tuple[str, ...]
    body: tuple[str, ...]
    points: tuple[str, ...] = ()
    table: str = ""
    attach: tuple[str, ...] = ()
    department: str = ""


HQ_TOPICS: dict[str, tuple[Topic, ...]] = {
    "A": (
        Topic("修正「全民健康保險醫事服務機構醫療服務點數申報格式及填表說明」，自{eff}(費用年月{eff_ym})起實施，請院所轉知資訊廠商配合修改程式",
              ("醫費申報", "RWM", "申報格式"),
              ("依據本署{day_roc}健保醫字第{doc_no}號公告辦理。", "本次修正重點如下：", "@points",
               "請各特約醫事服務機構轉知醫療資訊系統(HIS)廠商配合修改，並可於實施前利用「預檢醫療費用申報」作業先行檢測申報檔案。"),
              points=("門診申報新增「{field}」欄位。", "住院申報「{field2}」欄位改為必填。", "修正「{check}」之檢核邏輯。"),
              attach=("申報格式及填表說明修正對照表.pdf", "申報格式及填表說明.odt")),
        Topic("自{eff}起門診醫療費用申報資料新增「{field}」欄位之檢核",
              ("醫費申報", "RWM"),
              ("為提升申報資料正確性，自{eff}(費用年月{eff_ym})起，門診醫療費用申報資料之「{field}」欄位將納入檢核。",
               "未依規定填報者，列為<b>檢核錯誤</b>，請院所於修正後重新申報。",
               "請院所轉知資訊廠商配合修改程式。")),
        Topic("本網站「醫療費用申報」作業於{mdate}{hours}進行系統維護，暫停受理申報資料上傳",
              ("醫費申報", "系統維護"),
              ("本署資訊系統將於{mdate}{hours}進行例行維護作業，維護期間暫停以下服務：", "@table",
               "請院所預先安排申報作業，不便之處，敬請見諒。"),
              table="maintenance", department="資訊組"),
        Topic("提醒院所{fee_ym}費用年月醫療費用請於{deadline}前完成申報",
              ("醫費申報",),
              ("依全民健康保險醫療費用申報與核付及醫療服務審查辦法規定，特約醫事服務機構應於費用發生之次月20日前申報。",
               '{fee_ym}費用年月之申報期限為<span style="color:#c00"><b>{deadline}</b></span>，逾期申報者，本署將依規定延後撥付。')),
        Topic("新增「{ops}」功能，院所可於本網站「A.01醫療費用申報」項下使用",
              ("醫費申報", "RWM"),
              ("為簡化院所作業，本網站「A.01醫療費用申報」項下新增「{ops}」功能，自{eff}起提供服務。",
               "操作說明已置於「下載專區」之使用者手冊，請院所參閱。"),
              department="資訊組"),
        Topic("{fee_ym}費用年月起抽審案件一律以電子方式送審(RWS)，不再受理紙本病歷",
              ("抽審", "RWS"),
              ("為推動醫療費用審查電子化，自{fee_ym}費用年月起，抽審案件應以本網站「費用抽審案件送審作業」上傳送審資料。",
               "送審檔案請依「抽審案件電子化送審格式」製作，並以ZIP壓縮後上傳；單一檔案大小上限為{size}MB。",
               "送審期限依各分區業務組通知辦理。"),
              attach=("抽審案件電子化送審格式說明.pdf",)),
        Topic("ICD-10-CM/PCS {icd}年版自{eff}起適用於醫療費用申報",
              ("ICD10", "醫費申報"),
              ("自{eff}起(以就醫日期認定)，醫療費用申報之疾病分類及處置代碼改採ICD-10-CM/PCS {icd}年版。",
               "新舊版本代碼對照表及編碼指引已置於本署全球資訊網，請院所配合更新編碼系統。")),
        Topic("「預檢醫療費用申報」作業新增「{check}」檢核項目",
              ("預檢", "醫費申報"),
              ("自{eff}起，「預檢醫療費用申報」作業新增「{check}」檢核項目，院所可於正式申報前先行檢測。",
               "預檢結果僅供院所參考，不代表正式申報之檢核結果。")),
        Topic("醫療資料傳輸共通介面API元件{ver}版更新，請採用該元件申報之院所於{deadline}前完成更新",
              ("API元件", "醫費申報"),
              ("本次更新內容：", "@points", "舊版元件自{deadline}起停止服務。"),
              points=("支援TLS 1.3加密連線。", "修正大型申報檔案上傳逾時問題。", "新增上傳結果回傳代碼說明。"),
              department="資訊組", attach=("API元件更新說明.pdf",)),
    ),
    "B": (
        Topic("修訂「全民健康保險{branch}醫療費用審查注意事項」部分規定，自{eff}起生效",
              ("審查注意事項", "專業審查"),
              ("依據本署{day_roc}健保審字第{doc_no}號公告辦理。", "本次修訂重點：", "@points", "修訂條文對照表詳如附件。"),
              points=("修正{branch}「{check}」之審查原則。", "增列事前審查案件應檢附之資料。", "刪除已不適用之條文。"),
              attach=("審查注意事項修訂對照表.pdf",)),
        Topic("事前審查案件自{eff}起全面改採電子化送審",
              ("事前審查",),
              ("自{eff}起，事前審查案件請一律以本網站「B審查作業(含事前審查)」項下之事前審查作業申請，不再受理紙本送件。",
               '送審資料請依規定格式上傳影像檔，<span style="color:#c00">資料不全者將予退件</span>。')),
        Topic("住院診斷關聯群(Tw-DRGs)第{drg}版支付通則及權重修正，自{eff}起實施",
              ("DRGs", "RDD"),
              ("Tw-DRGs第{drg}版相對權重、上下限臨界點及支付通則修正，自{eff}(出院日期)起實施。",
               "「住院病例組合編審服務」(RDD)將同步更新，院所可先行上傳資料試算。"),
              attach=("TwDRGs相對權重表.pdf", "支付通則修正對照表.pdf")),
        Topic("「住院病例組合編審服務」(RDD)於{mdate}{hours}暫停服務",
              ("RDD", "系統維護"),
              ("因系統版本更新，RDD住院病例組合編審服務於{mdate}{hours}暫停服務。",
               "維護期間請勿上傳資料，恢復服務後請重新執行編審。"),
              department="資訊組"),
        Topic("重大傷病證明網路申請(QB4)上傳格式修正說明",
              ("重大傷病", "QB4"),
              ("自{eff}起，重大傷病證明網路申請上傳格式新增「診斷證明書開立日期」欄位。",
               "申請案件如有附件影像，請以PDF或JPG格式上傳。")),
        Topic("{quarter}專業審查不予支付理由代碼增修",
              ("專業審查",),
              ("{quarter}專業審查不予支付理由代碼增修如下表，自{eff}起適用：", "@table"),
              table="reason_codes"),
        Topic("電子化專業審查系統(PAC)上傳影像檔案大小上限調整為{size}MB",
              ("專業審查", "PAC"),
              ("為因應醫療影像檔案增大，電子化專業審查系統上傳單一影像檔案大小上限自{eff}起調整為{size}MB。",)),
        Topic("提醒院所申報{branch}「{check}」相關案件，應於病歷詳實記載適應症",
              ("專業審查",),
              ("經分析{quarter}審查結果，{branch}「{check}」相關案件不予支付比率偏高。",
               "請院所申報時確實依審查注意事項辦理，並於病歷記載使用理由。")),
        Topic("「{drug_class}」類藥品事前審查申請表格式修正，自{eff}起適用",
              ("事前審查", "藥品"),
              ("「{drug_class}」類藥品事前審查申請表修正後格式詳如附件。", "{eff}前已送件之案件，仍依原格式審查。"),
              attach=("事前審查申請表.odt",)),
    ),
    "C": (
        Topic("特約醫事服務機構{contract_year}年度合約屆期，請於{deadline}前完成線上續約",
              ("特約管理", "續約"),
              ("特約醫事服務機構合約將於{contract_year}年12月31日屆期，請於{deadline}前至本網站「特約機構作業」完成電子化續約。",
               "續約作業說明：", "@points"),
              points=("以醫事機構卡登入後，點選「C特約機構資料維護」→「特約機構作業」→「合約續約」。",
                      "確認機構基本資料及負責醫事人員資料無誤後，勾選同意並送出。",
                      "續約結果將以電子公文寄送院所資料交換區。")),
        Topic("{holiday}連續假期院所開診時段請於{holiday_deadline}前完成登錄",
              ("看診時段",),
              ("為利民眾查詢連續假期就醫資訊，請院所於{holiday_deadline}前至「看診資料及掛號費維護」登錄{holiday}期間之開診時段。",
               "若當天有提供急診請勾選急診；未勾選服務時段者，將顯示「院所未登錄」。")),
        Topic("「特約機構作業」新增「{c_item}」線上申請功能",
              ("特約管理",),
              ("自{eff}起，院所可於本網站「特約機構作業」線上申請「{c_item}」，免再以紙本送件。",
               "申請結果請於7至10日後至院所資料交換區查詢。")),
        Topic("院所看診時段異動請於異動前完成登錄「看診資料及掛號費維護」",
              ("看診時段",),
              ("依全民健康保險醫事服務機構特約及管理辦法規定，院所看診時段異動應事先報備。",
               "請院所於異動前至本網站登錄，登錄資料將同步公開於本署全球資訊網供民眾查詢。")),
        Topic("特約醫事服務機構負責醫師變更等異動事項，自{eff}起得以線上申請辦理",
              ("特約管理", "異動申報"),
              ("異動申報表請依格式填寫，附上相關文件製作成同一份檔案，檔名為vpnchange+機構代碼。",
               "印鑑或帳戶變更仍請以紙本送件。"),
              attach=("特約醫事服務機構異動申報表.odt",)),
    ),
    "D": (
        Topic("{year}年度「{plan}」收案資料登錄期限延長至{deadline}",
              ("照護計畫",),
              ("考量院所作業時間，{year}年度「{plan}」收案資料登錄期限延長至{deadline}。",
               "逾期登錄之個案，不予計算品質獎勵。")),
        Topic("成人預防保健服務檢查結果上傳格式(QB8)修正，自{eff}起適用",
              ("成人健檢", "QB8"),
              ("配合國民健康署調整成人預防保健服務項目，檢查結果上傳格式修正重點：", "@points"),
              points=("新增B、C型肝炎篩檢結果欄位。", "腰圍欄位改為必填。", "刪除已停用之檢驗項目欄位。"),
              attach=("成人預防保健上傳格式.pdf",)),
        Topic("呼吸照護病人登錄系統(QVT)新增「{field}」欄位",
              ("呼吸照護", "QVT"),
              ("自{eff}起，呼吸器依賴患者登錄新增「{field}」欄位，請院所於收案時一併登錄。",)),
        Topic("{year}年度「{plan}」品質指標計算結果已公布",
              ("照護計畫", "品質指標"),
              ("{year}年度品質指標計算結果已置於本網站「D照護計畫維護追蹤」項下，請參與院所下載查閱。",
               "如對計算結果有疑義，請於{deadline}前向所屬分區業務組提出。")),
        Topic("{plan}個案追蹤資料請於每季結束後次月20日前上傳",
              ("照護計畫",),
              ("為掌握照護成效，{plan}個案追蹤資料請依規定期限上傳。", "{quarter}資料上傳期限為{deadline}。")),
    ),
    "E": (
        Topic("{quarter}{branch}總額各分區浮動點值及平均點值",
              ("點值",),
              ("{quarter}{branch}醫療給付費用總額各分區點值結算如下表：", "@table",
               "本季點值將作為{eff}起核付之依據。"),
              table="point_values"),
        Topic("{fee_ym}費用年月{branch}醫療費用暫付款已於{pay_date}撥付",
              ("暫付", "IWF"),
              ("{fee_ym}費用年月{branch}醫療費用暫付款已於{pay_date}撥入院所指定帳戶。",
               "暫付通知書請至本網站「E費用支付資料下載」項下下載。"),
              department="財務組"),
        Topic("醫療費用{pay_doc}自{eff}起改以電子方式寄送，不再寄送紙本",
              ("核定通知", "IWF"),
              ("為推動節能減碳，自{eff}起醫療費用{pay_doc}改以本網站電子方式提供。",
               '<b>電子文件之送達時間，以院所首次開啟檢視之時間為準</b>；未開啟者，本署每日以電子郵件提醒。'),
              department="財務組"),
        Topic("「醫療費用支付」作業新增「{pay_doc}」下載功能",
              ("IWF", "醫療費用支付"),
              ("自{eff}起，院所可於「E費用支付資料下載」下載{pay_doc}(PDF及CSV格式)。",),
              department="財務組"),
        Topic("{year}年度{branch}醫療給付費用總額部門結算結果說明",
              ("點值", "總額"),
              ("{year}年度{branch}總額結算結果說明詳如附件。", "各分區結算點值將於{pay_date}起辦理補付或追扣。"),
              attach=("總額結算結果說明.pdf",)),
        Topic("{fee_ym}費用年月醫療費用核付作業延後辦理說明",
              ("核付",),
              ("因{year}年度總額協商結果公告時程延後，{fee_ym}費用年月核付作業順延辦理。", "造成不便，敬請見諒。"),
              department="財務組"),
    ),
    "F": (
        Topic("電子轉診平台自{eff}起新增「{feature}」功能",
              ("電子轉診", "轉診"),
              ("為提升轉診作業效率，電子轉診平台自{eff}起新增「{feature}」功能。", "操作說明請參閱附件。"),
              attach=("電子轉診平台操作手冊.pdf",)),
        Topic("{year}年度鼓勵院所轉診之轉診費用申報說明",
              ("轉診",),
              ("依{year}年度醫療給付費用總額協商結果，持續鼓勵院所辦理轉診。", "申報方式：", "@points"),
              points=("轉出院所申報「轉診門診病人之轉出費」。", "轉入院所申報「接受轉診門診病人之轉入費」。",
                      "回轉院所申報「回轉及下轉之轉診費」。")),
        Topic("電子轉診平台於{mdate}{hours}系統維護",
              ("電子轉診", "系統維護"),
              ("維護期間暫停開立及接收電子轉診單，如有轉診需求請以紙本轉診單辦理。",), department="資訊組"),
    ),
    "G": (
        Topic("{year}年度居家醫療照護整合計畫收案及訪視紀錄上傳說明",
              ("居家醫療",),
              ("參與院所請於收案後至本網站「G居家醫療」登錄收案資料。", "每次訪視紀錄請於訪視後{n_days}日內上傳。")),
        Topic("居家醫療訪視紀錄上傳格式修正，自{eff}起適用",
              ("居家醫療",),
              ("修正重點如下：", "@points"),
              points=("新增「訪視人員類別」欄位。", "「訪視時間」改以起迄時間填報。", "新增遠距訪視註記。")),
        Topic("居家醫療使用「居家輕量藍牙方案」之院所請更新APP至{ver}版",
              ("居家醫療", "雲端安全模組"),
              ("使用居家輕量藍牙方案離線認卡之院所，請於{deadline}前更新APP至{ver}版。",
               "離線認卡之就醫資料請於恢復連線後24小時內上傳。"),
              department="資訊組"),
    ),
    "H": (
        Topic("{quarter}健保卡就醫資料24小時上傳率未達90%之院所，請儘速改善",
              ("健保卡上傳", "上傳指標"),
              ("{quarter}健保卡就醫資料上傳指標計算結果已寄送院所資料交換區。", "上傳指標如下：", "@points",
               '<span style="color:#c00">每季第1個月為勾稽月份，未達指標者將發函限期改善，屆期未改善將違約記點。</span>'),
              points=("健保卡登錄後24小時內上傳之件數比率≧90%。", "健保卡上傳件數/申報件數≧90%。",
                      "上傳資料與申報資料比對，每項上傳比率≧90%。")),
        Topic("健保卡資料上傳格式{ver}版自{eff}起實施",
              ("健保卡上傳", "IPA"),
              ("健保卡資料上傳格式{ver}版修正重點：", "@points", "請院所轉知資訊廠商配合修改。"),
              points=("新增「{field}」資料元素。", "修正重要醫令上傳規則。", "增列異常代碼檢核。"),
              attach=("健保卡資料上傳格式說明.pdf",), department="資訊組"),
        Topic("異常代碼「{abn}」({abn_reason})使用規範修訂",
              ("異常代碼", "健保卡上傳"),
              ("自{eff}起，異常代碼「{abn}」({abn_reason})之使用規範修訂如下表：", "@table",
               "發生健保卡作業異常致無法24小時內上傳者，請填寫「健保卡作業異常狀況報備單」向所屬分區業務組報備。"),
              table="abnormal"),
        Topic("健保卡讀卡機控制軟體{ver}版更新，請院所於{deadline}前完成安裝",
              ("讀卡機", "控制軟體"),
              ("本次更新修正部分讀卡機於Windows 11環境下之相容性問題。", "舊版控制軟體自{deadline}後將無法寫卡。"),
              department="資訊組", attach=("控制軟體安裝說明.pdf",)),
        Topic("「IC卡就醫上傳檢核結果查詢」(IPA)於{mdate}{hours}暫停服務",
              ("IPA", "系統維護"),
              ("維護期間上傳之健保卡就醫資料，將於恢復服務後依序檢核。",), department="資訊組"),
        Topic("提醒院所每日上傳後2小時至「健保卡就醫上傳檢核結果查詢」確認上傳結果",
              ("健保卡上傳", "IPA"),
              ("請確認接收筆數是否為當日就醫筆數，若有無效明細或醫令，請下載報表修正後補正上傳。",
               "下載資料僅暫存14天，逾期需重新申請。")),
        Topic("雲端安全模組憑證效期屆滿前請於{deadline}前完成展期",
              ("雲端安全模組", "憑證"),
              ("使用雲端安全模組之院所，憑證效期將陸續屆滿，請於{deadline}前完成展期，以免影響健保卡就醫資料上傳。",),
              department="資訊組"),
    ),
    "I": (
        Topic("檢驗(查)結果上傳格式修正，自{eff}起新增「{lab_item}」上傳項目",
              ("檢驗上傳",),
              ("自{eff}起，檢驗(查)結果上傳新增「{lab_item}」項目，請院所於報告完成後24小時內上傳。",)),
        Topic("醫療影像上傳(IPB)之影像壓縮格式規範更新",
              ("影像上傳", "IPB"),
              ("醫療影像上傳之DICOM檔案請以無失真壓縮格式處理。", "上傳結果請至「醫療影像傳輸結果查詢」確認。"),
              attach=("醫療影像上傳作業說明.pdf",)),
        Topic("{quarter}檢驗(查)結果及醫療影像上傳獎勵金核發說明",
              ("檢驗上傳", "獎勵金"),
              ("{quarter}上傳獎勵金已併{pay_date}核付款撥付。", "獎勵金明細請至「E費用支付資料下載」下載。")),
        Topic("出院病摘上傳格式改採CDA R2標準，自{eff}起實施",
              ("出院病摘",),
              ("出院病摘上傳格式自{eff}起改採HL7 CDA R2標準，舊格式受理至{deadline}止。",)),
    ),
    "J": (
        Topic("健保醫療資訊雲端查詢系統新增「{cloud_tab}」頁籤",
              ("雲端查詢",),
              ("自{eff}起，雲端查詢系統新增「{cloud_tab}」頁籤，供醫師診療時參考。", "相關操作說明請參閱附件。"),
              attach=("雲端查詢系統操作手冊.pdf",)),
        Topic("健保醫療資訊雲端查詢系統於{mdate}{hours}暫停服務",
              ("雲端查詢", "系統維護"),
              ("維護期間如無法查詢病人用藥紀錄，請依規定申報虛擬代碼R005。",), department="資訊組"),
        Topic("重複用藥管理方案{year}年度核扣原則說明",
              ("重複用藥", "雲端查詢"),
              ("同院所、跨院所同類藥品重疊用藥日數超過規定者，將依方案辦理核扣。", "詳細核扣原則如下：", "@points"),
              points=("同藥理用藥日數重疊超過7日者，核扣重疊部分藥費。", "慢性病連續處方箋提前領藥不在此限。",
                      "院所已查詢雲端藥歷並記載理由者，得申復。")),
    ),
    "K": (
        Topic("「院所資料交換」(IEA)交換檔案保存期限調整為{n_days}日",
              ("資料交換", "IEA"),
              ("自{eff}起，院所交換檔案下載區之檔案保存期限調整為{n_days}日，請院所定期下載。",)),
        Topic("本署公文自{eff}起以電子方式寄送至院所資料交換區",
              ("資料交換", "電子公文"),
              ("為節能減碳，本署持續推動以電子公文與特約院所聯繫。",
               "請院所每週固定選定1至2時段，於「院所資料交換」下載本署上傳之公文或文件，避免遺漏重要訊息。")),
        Topic("「院所資料交換」於{mdate}{hours}進行系統維護",
              ("資料交換", "系統維護"),
              ("維護期間暫停交換檔案上傳及下載。",)),
        Topic("批次下載作業新增「{pay_doc}」檔案類型",
              ("批次下載", "下載捷徑"),
              ("自{eff}起，「下載捷徑專區」可申請下載「{pay_doc}」，申請後次日即可下載。",)),
    ),
    "L": (
        Topic("{firm}「{drug}」({license})藥品部分批號回收",
              ("藥品回收",),
              ("依據衛生福利部食品藥物管理署來函辦理。", "回收品項如下：", "@table",
               "請院所清查庫存，自即日起停止調劑、使用前述批號藥品，並配合藥商辦理回收。",
               "藥品回收資訊請參閱衛生福利部食品藥物管理署網站：" + FDA_LINK),
              table="recall", attach=("{drug_short}回收批號清單.pdf",)),
        Topic("{year}年度藥價調查申報作業，請於{deadline}前完成申報",
              ("藥價調查",),
              ("請各特約醫事服務機構依規定期限至「L藥材調查及診療增修」申報藥品購買價格及數量。",
               '<b>未依限申報者，依規定辦理。</b>')),
        Topic("全民健康保險藥物給付項目及支付標準部分品項支付價格調整，自{eff}起生效",
              ("藥價調整", "支付標準"),
              ("本次共調整{n_items}項藥品支付價格，品項明細詳如附件。",),
              attach=("藥品支付價格調整品項表.pdf",)),
        Topic("新增「{material}」特殊材料給付品項，自{eff}起生效",
              ("特材",),
              ("「{material}」新增給付品項及支付點數詳如附件，使用時請依適應症規定申報。",),
              attach=("特殊材料給付品項表.pdf",)),
        Topic("醫療服務給付項目及支付標準修正，增修{n_items}項診療項目",
              ("支付標準", "診療項目"),
              ("依據本署{day_roc}健保醫字第{doc_no}號公告辦理。", "修正診療項目自{eff}起實施。")),
    ),
    "M": (
        Topic("{year}年度流感疫苗接種合約院所醫療費用申報注意事項",
              ("流感疫苗", "防疫"),
              ("{year}年度公費流感疫苗接種作業自{eff}起開打。", "申報注意事項：", "@points"),
              points=("疫苗接種處置費以「特定治療項目代號」申報。", "同時看診者，診察費另依規定申報。",
                      "接種紀錄請於接種後24小時內上傳。")),
        Topic("因應COVID-19疫情，口服抗病毒藥物處方及申報規定更新",
              ("COVID-19", "防疫"),
              ('依疾病管制署最新公告，自{eff}起口服抗病毒藥物處方條件修正，<span style="color:#c00">請院所依最新規定開立</span>。',
               "相關費用以公務預算支應，請依規定之案件分類申報。",
               "最新處方條件請參閱衛生福利部疾病管制署網站：" + CDC_LINK)),
        Topic("配合疾病管制署辦理{year}年度公費疫苗接種資料上傳作業說明",
              ("防疫", "行政協助"),
              ("院所接種公費疫苗後，請於24小時內上傳接種資料至「M行政協助項目」。",), department="企劃組"),
        Topic("{holiday}連續假期防疫門診服務院所名單登錄",
              ("防疫", "看診時段"),
              ("請提供{holiday}期間門診服務之院所於{holiday_deadline}前完成登錄，以利公布民眾就醫資訊。",)),
    ),
    "N": (
        Topic("{year}年度「全民健康保險醫療資源不足地區改善方案」巡迴醫療點異動",
              ("偏鄉醫療", "巡迴醫療"),
              ("{year}年度巡迴醫療點異動情形詳如附件，請承作院所依核定時段提供服務。",),
              attach=("巡迴醫療點異動一覽表.pdf",)),
        Topic("偏鄉醫師人力需求填報作業，請衛生局於{deadline}前完成",
              ("偏鄉醫療",),
              ("請各縣市衛生局至「N偏鄉醫師人力需求」填報轄區醫師人力需求。",)),
        Topic("{year}年度山地離島地區醫療給付效益提昇計畫(IDS)承作院所說明會",
              ("偏鄉醫療", "IDS"),
              ("說明會時間：{cdate}{ctime}，地點：{venue}。",)),
    ),
    "O": (
        Topic("機構管理者設定及健保服務授權作業說明",
              ("機構授權",),
              ("機構代表以醫事機構卡登入後，可新增機構管理者並授權健保服務項目。", "授權流程：", "@points"),
              points=("以醫事機構卡登入，進入「O機構授權作業」。", "新增機構管理者並指定可管理之服務。",
                      "機構管理者再將服務授權予機構使用者。")),
        Topic("提醒院所定期檢視機構使用者帳號，離職人員請即時取消授權",
              ("機構授權", "資訊安全"),
              ("為維護資訊安全，請機構管理者每{n_days}日檢視使用者授權，離職或調職人員請即時取消。",)),
        Topic("自{eff}起健保服務授權作業新增授權期限設定",
              ("機構授權",),
              ("機構管理者授權健保服務時，可設定授權起迄日期，屆期自動失效。",)),
    ),
}

REGIONAL_TOPICS: tuple[Topic, ...] = (
    Topic("{region}{holiday}連續假期院所開診時段請於{holiday_deadline}前完成登錄",
          ("看診時段",),
          ("為利民眾查詢連續假期就醫資訊，請轄區院所於{holiday_deadline}前登錄{holiday}期間開診時段。",
           "若當天有提供急診請勾選急診；未勾選服務時段者，將顯示「院所未登錄」。")),
    Topic("{region}辦理「{course}」說明會，請轄區院所踴躍報名",
          ("說明會", "教育訓練"),
          ("{region}訂於{cdate}辦理「{course}」說明會，場次如下：", "@table", "請於{signup_deadline}前回傳報名表，名額有限，額滿為止。"),
          table="course", attach=("說明會報名表.odt", "說明會議程.pdf")),
    Topic("{region}{quarter}{branch}總額浮動點值及平均點值",
          ("點值",),
          ("{area}{quarter}{branch}總額點值結算如下：", "@table"), table="region_points"),
    Topic("{region}轄區院所{fee_ym}費用年月抽審案件請於{deadline}前以電子方式送審",
          ("抽審", "醫費申報"),
          ("抽審通知已寄送院所資料交換區，請於{deadline}前以「費用抽審案件送審作業」上傳送審資料。",
           "逾期未送審者，依規定不予支付。")),
    Topic("{region}{year}年度{branch}總額共管會議紀錄",
          ("共管會議", "總額"),
          ("{year}年度第{n_meeting}次共管會議紀錄詳如附件。", "會議決議事項請轄區院所配合辦理。"),
          attach=("共管會議紀錄.pdf", "共管會議簡報.pdf")),
    Topic("{region}{quarter}健保卡就醫資料24小時上傳率未達90%院所名單已寄送院所資料交換區，請儘速改善",
          ("健保卡上傳", "上傳指標"),
          ("{quarter}未達標院所請於{deadline}前提出改善說明。",
           '<span style="color:#c00">屆期未改善者，將依特約管理辦法違約記點。</span>')),
    Topic("{region}轄區特約醫事服務機構{contract_year}年度合約續約作業說明",
          ("續約", "特約管理"),
          ("請轄區院所於{deadline}前至「特約機構作業」完成電子化續約。",)),
    Topic("{region}{system}業務承辦人異動，請轄區院所改洽新聯絡窗口",
          ("聯絡窗口",),
          ("自{eff}起，{region}{system}業務改由本公告聯絡人承辦。",)),
    Topic("{region}轄區{branch}院所{quarter}專業審查常見不予支付理由及改善建議",
          ("專業審查",),
          ("經統計{quarter}專業審查結果，常見不予支付理由如下：", "@points", "請院所加強病歷記載。"),
          points=("病歷記載不完整，無法支持診斷。", "檢查(驗)項目與病情無關。", "用藥未符合適應症。")),
    Topic("{region}{year}年度流感疫苗接種合約院所申報注意事項",
          ("流感疫苗",),
          ("公費流感疫苗接種處置費請以規定之案件分類申報，並於接種後24小時內上傳接種資料。",)),
    Topic("{region}受理{year}年度中醫醫療資源不足地區巡迴醫療服務計畫申請",
          ("巡迴醫療", "中醫"),
          ("申請期限至{deadline}止。", "巡迴醫療報酬申請表請以電子方式上傳至本網站。")),
    Topic("{region}{cdate}辦理轄區院所醫療費用申報資料品質輔導訪查",
          ("輔導訪查",),
          ("受訪院所名單已另函通知，請受訪院所備妥相關資料。",)),
    Topic("{region}轄區院所醫療費用核定通知書自{eff}起改以電子方式寄送",
          ("核定通知",),
          ("電子文件之送達時間，以院所首次開啟檢視之時間為準。",)),
    Topic("{region}{fee_ym}費用年月{branch}暫付款撥付說明",
          ("暫付",),
          ("{fee_ym}費用年月暫付款已於{pay_date}撥付。",)),
    Topic("{region}受理{year}年度「{plan}」參與院所申請，申請期限至{deadline}止，逾期不予受理",
          ("照護計畫",),
          ("申請書及相關文件請以院所資料交換上傳，交換檔案備註請填寫「計畫申請」。",),
          attach=("計畫申請書.odt",)),
    Topic("{region}轄區新特約院所VPN開通前以異常代碼G000上傳就醫資料注意事項({day_roc})",
          ("異常代碼", "新特約"),
          ("新特約院所於特約核定日起30個日曆天後，不得以異常就醫序號G000申報醫療費用。",
           "尚無法查詢雲端藥歷前，建議併同申報虛擬代碼R005。")),
    Topic("{region}{day_roc}院所說明會簡報資料",
          ("說明會",),
          ("{day_roc}說明會簡報資料詳如附件。",), attach=("說明會簡報.pdf",)),
    Topic("{region}轄區院所{fee_ym}費用年月申報資料檢核錯誤率偏高項目說明",
          ("醫費申報",),
          ("{fee_ym}費用年月申報檢核錯誤以「{check}」為最多，請院所轉知資訊廠商檢視。",)),
    Topic("{region}服務櫃檯自{eff}起調整服務時間",
          ("服務時間",),
          ("服務時間調整為週一至週五8:00至17:30，中午不休息。",)),
    Topic("{region}COVID-19口服抗病毒藥物配賦院所名單更新({day_roc})",
          ("COVID-19", "防疫"),
          ("最新配賦院所名單已公布於本署全球資訊網，請院所依規定開立及申報。",)),
    Topic("{region}雲端安全模組申請案件每小時核發，請院所於申請後至本網站查詢",
          ("雲端安全模組",),
          ("雲端安全模組申請經審核通過後，系統每小時整點核發。", "核發後請依操作手冊完成安裝。")),
    Topic("{region}轄區院所辦理醫事人員報備支援應於事前完成線上申請({day_roc})",
          ("報備支援", "特約管理"),
          ("醫事人員報備支援請於支援日前至「特約機構作業」線上申請，未事前報備者依規定辦理。",)),
)


# ─────────────────────────────── entry point ───────────────────────────────

def load(storage, seed: int = 20261122) -> dict[str, int]:
    """Seed and generated announcements plus the member contact tree; returns totals."""
    rng = random.Random(seed)
    entries = seed_entries(demo.read("member_announcements")) + generate(rng)
    with database.atomic():
        save_all(entries, storage)
        contacts = load_contacts(demo.read("member_contacts"))
    return {"hq": Announcement.select().where(Announcement.kind == "hq").count(),
            "regional": Announcement.select().where(Announcement.kind == "regional").count(),
            "contacts": contacts}


# ─────────────────────────────── announcements ───────────────────────────────

def seed_entries(data: dict) -> list[dict]:
    """The seed file's announcements as entries (publish at PUBLISH_TIME of their date)."""
    entries = []
    for row in data["announcement"]:
        entry = dict(row)
        entry["publish_at"] = taipei_to_utc(date.fromisoformat(entry.pop("date")), demo.PUBLISH_TIME)
        entries.append(entry)
    return entries


def generate(rng: random.Random) -> list[dict]:
    """The generated archive: HQ_QUOTA hq notices and REGIONAL_PER_REGION per region."""
    entries, seen = [], {"hq": set(), "regional": set()}
    for category, quota in HQ_QUOTA.items():
        for _ in range(quota):
            entries.append(_unique(seen["hq"], _hq_entry, rng, category))
    for code in REGIONS:
        for _ in range(REGIONAL_PER_REGION):
            entries.append(_unique(seen["regional"], _regional_entry, rng, code))
    return entries


def _unique(seen: set, make, *args) -> dict:
    """Draw entries with make(*args) until one has a title not used yet for its kind."""
    for _ in range(200):
        entry = make(*args)
        if entry["title"] not in seen:
            seen.add(entry["title"])
            return entry
    raise RuntimeError("demo topics exhausted: add templates or lower the quota")


def _hq_entry(rng: random.Random, category: str) -> dict:
    """One 署本部公告事項 of a category."""
    topic = rng.choice(HQ_TOPICS[category])
    day, at, expire = _schedule(rng)
    ctx = slots(rng, day)
    entry = _compose(rng, topic, ctx, "hq", day, at, expire)
    entry.update(category=category, department=topic.department or HQ_DEPARTMENT[category])
    return entry


def _regional_entry(rng: random.Random, code: str) -> dict:
    """One 分區業務公告事項 of a region, with a contact of that 業務組."""
    topic = rng.choice(REGIONAL_TOPICS)
    day, at, expire = _schedule(rng)
    name, area, phone, first_extension, room = REGIONS[code]
    ctx = slots(rng, day, region=name, area=area, venue=room)
    entry = _compose(rng, topic, ctx, "regional", day, at, expire)
    entry.update(region=code, department=name,
                 contact_name=rng.choice(SURNAMES) + rng.choice(("小姐", "先生")),
                 contact_phone=phone.format(ext=first_extension + rng.randint(0, 999)))
    return entry


def _schedule(rng: random.Random) -> tuple[date, time, date | None]:
    """Publish day, time and (rarely) an expiry day; a few start after ANCHOR or have ended."""
    at = time(rng.choice((8, 9, 10, 11, 14, 15, 16, 17)), rng.choice((0, 15, 30, 45)))
    if rng.random() < OLDER_SHARE:
        return ANCHOR - timedelta(days=rng.randint(RECENT_DAYS + 1, 7 * 365)), at, None
    if rng.random() < WINDOW_SHARE:
        if rng.random() < 0.5:
            return ANCHOR + timedelta(days=rng.randint(3, 75)), at, None
        day = ANCHOR - timedelta(days=rng.randint(90, RECENT_DAYS))
        return day, at, day + timedelta(days=rng.randint(14, 60))
    return ANCHOR - timedelta(days=rng.randint(1, RECENT_DAYS)), at, None


def _compose(rng: random.Random, topic: Topic, ctx: dict, kind: str, day: date, at: time,
             expire: date | None) -> dict:
    """Title, keywords, HTML content and attachments of one generated notice."""
    title = topic.title.format_map(ctx)
    content = render_body(rng, topic, ctx)
    attachments = []
    if topic.attach and rng.random() < ATTACH_CHANCE:
        attachments = [name.format_map(ctx) for name in topic.attach]
    else:
        for said, instead in NO_ATTACHMENT:
            content = content.replace(said, instead)
    return dict(kind=kind, title=title, content=content, keywords=rng.choice(topic.keywords).format_map(ctx),
                publish_at=taipei_to_utc(day, at),
                expire_at=taipei_to_utc(expire, at) if expire else None,
                attachments=attachments)


def render_body(rng: random.Random, topic: Topic, ctx: dict) -> str:
    """Numbered paragraphs (一、二、…) with the topic's list or table, maybe a link."""
    parts, number = [], 0
    for paragraph in topic.body:
        if paragraph == "@points":
            parts.append("<ul>" + "".join(f"<li>{p.format_map(ctx)}</li>" for p in topic.points) + "</ul>")
        elif paragraph == "@table":
            parts.append(TABLES[topic.table](rng, ctx))
        else:
            parts.append(f"<p>{NUMERALS[number]}、{paragraph.format_map(ctx)}</p>")
            number += 1
    if rng.random() < LINK_SHARE:
        label, url = rng.choice(LINKS)
        parts.append(f'<p>{NUMERALS[number]}、相關資訊請參閱{label}：<a href="{url}">{url}</a></p>')
    return "\n".join(parts)


# ─────────────────────────────── slots and tables ───────────────────────────────

def roc(day: date, weekday: bool = False) -> str:
    """115年3月7日, or 115年3月7日(六)."""
    text = f"{day.year - ROC_OFFSET}年{day.month}月{day.day}日"
    return text + f"({WEEKDAYS[day.weekday()]})" if weekday else text


def _month_start(day: date, months_ahead: int) -> date:
    """The first day of the month `months_ahead` after day's month."""
    index = day.year * 12 + day.month - 1 + months_ahead
    return date(index // 12, index % 12 + 1, 1)


def _next_holiday(day: date) -> tuple[date, str]:
    """The first holiday of HOLIDAYS after a day (approximate dates; names are what matters)."""
    for year in (day.year, day.year + 1):
        for month, dom, name in HOLIDAYS:
            when = date(year, month, dom)
            if when > day + timedelta(days=20):
                return when, name
    raise AssertionError("unreachable")


def slots(rng: random.Random, day: date, **extra) -> dict:
    """Every value a template may use, derived from the publish day and the generator."""
    fee_day = _month_start(day, -rng.randint(1, 3))
    eff = _month_start(day, rng.randint(1, 3))
    saturday = day + timedelta(days=4 + (5 - (day + timedelta(days=4)).weekday()) % 7)
    holiday_day, holiday = _next_holiday(day)
    quarter_end = _month_start(day, -((day.month - 1) % 3) - 1)
    course_day = day + timedelta(days=rng.randint(10, 35))
    brand = rng.choice(DRUG_BRANDS)
    form, unit = rng.choice(DRUG_FORMS)
    strength = rng.choice((5, 10, 20, 40, 50, 100, 250, 500))
    code, reason = rng.choice(ABNORMAL)
    fields = rng.sample(FIELDS, 2)
    ctx = dict(
        year=day.year - ROC_OFFSET, day_roc=roc(day),
        eff=roc(eff), eff_ym=fee_month(eff.year, eff.month), fee_ym=fee_month(fee_day.year, fee_day.month),
        deadline=roc(day + timedelta(days=rng.randint(14, 45))),
        mdate=roc(saturday, weekday=True), hours=rng.choice(HOURS),
        cdate=roc(course_day, weekday=True), signup_deadline=roc(course_day - timedelta(days=rng.randint(3, 7))),
        ctime=rng.choice(CLASS_TIMES),
        pay_date=roc(day - timedelta(days=rng.randint(1, 10))),
        quarter=f"{quarter_end.year - ROC_OFFSET}年第{(quarter_end.month - 1) // 3 + 1}季",
        holiday=f"{holiday_day.year - ROC_OFFSET}年{holiday}",
        holiday_deadline=roc(holiday_day - timedelta(days=rng.randint(5, 12))),
        contract_year=day.year - ROC_OFFSET + (1 if day.month >= 7 else 0),
        branch=rng.choice(BRANCHES), plan=rng.choice(PLANS), system=rng.choice(SYSTEMS), course=rng.choice(COURSES),
        field=fields[0], field2=fields[1], check=rng.choice(CHECKS), ops=rng.choice(OPS),
        drug=f"{brand} {form} {strength} {unit} *{brand[:3].upper()}*", drug_short=brand,
        firm=rng.choice(FIRMS), license=f"衛部藥{rng.choice('製輸')}字第{rng.randint(10000, 69999):06d}號",
        lots=[f"{brand[0]}{day.year % 100}{rng.randint(100, 999)}" for _ in range(rng.randint(1, 3))],
        material=rng.choice(MATERIALS), abn=code, abn_reason=reason, feature=rng.choice(FEATURES),
        pay_doc=rng.choice(PAY_DOCS), c_item=rng.choice(C_ITEMS), lab_item=rng.choice(LAB_ITEMS),
        cloud_tab=rng.choice(CLOUD_TABS), drug_class=rng.choice(DRUG_CLASSES),
        ver=f"{rng.randint(5, 6)}.{rng.randint(0, 3)}.{rng.randint(1, 12)}", size=rng.choice((20, 30, 50, 100)),
        drg=rng.choice(("4.0", "4.1", "4.2", "5.0")), icd=rng.choice(("2023", "2025")),
        doc_no=f"{day.year - ROC_OFFSET}{rng.randint(10000, 99999):05d}{rng.randint(10, 99)}",
        n_days=rng.choice((7, 14, 30, 60, 90)), n_items=rng.randint(12, 480), n_meeting=rng.randint(1, 4),
        region="", area="", venue=rng.choice(("本署3樓大禮堂", "本署9樓第二會議室", "線上視訊會議")),
    )
    ctx.update(extra)
    return ctx




def _table(head: tuple[str, ...], rows: list[tuple]) -> str:
    """A small HTML table with a header row."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _points_table(rng: random.Random, ctx: dict) -> str:
    """Floating and average point values of the six regions and the whole country."""
    rows = []
    for name, *_ in REGIONS.values():
        floating = rng.uniform(0.80, 0.96)
        rows.append((name, f"{floating:.4f}", f"{min(floating + rng.uniform(0.03, 0.07), 1.0):.4f}"))
    rows.append(("全區", f"{rng.uniform(0.85, 0.93):.4f}", f"{rng.uniform(0.92, 0.97):.4f}"))
    return _table(("分區", "浮動點值", "平均點值"), rows)


def _region_points_table(rng: random.Random, ctx: dict) -> str:
    """A region's point values for the quarter, with the previous quarter for comparison."""
    floating = rng.uniform(0.82, 0.96)
    previous = floating + rng.uniform(-0.03, 0.03)
    return _table(("項目", ctx["quarter"], "前一季"),
                  [("浮動點值", f"{floating:.4f}", f"{previous:.4f}"),
                   ("平均點值", f"{min(floating + 0.05, 1.0):.4f}", f"{min(previous + 0.05, 1.0):.4f}")])


def _maintenance_table(rng: random.Random, ctx: dict) -> str:
    """Services paused during a maintenance window."""
    services = ("醫療費用申報", *rng.sample(SYSTEMS[1:], 2))
    return _table(("服務項目", "暫停時間"), [(s, f"{ctx['mdate']}{ctx['hours']}") for s in services])


def _course_table(rng: random.Random, ctx: dict) -> str:
    """Sessions of a course: date, time, place and seats."""
    rows = [(f"第{NUMERALS[i]}場", ctx["cdate"] if i == 0 else "另行通知", rng.choice(CLASS_TIMES),
             ctx["venue"], f"{rng.choice((40, 60, 80, 120))}名") for i in range(rng.randint(1, 3))]
    return _table(("場次", "日期", "時間", "地點", "名額"), rows)


def _recall_table(rng: random.Random, ctx: dict) -> str:
    """The recalled product, its licence and lots."""
    return _table(("品名", "許可證字號", "回收批號", "回收等級"),
                  [(ctx["drug"], ctx["license"], "、".join(ctx["lots"]), rng.choice(("第二級", "第三級")))])


def _abnormal_table(rng: random.Random, ctx: dict) -> str:
    """An abnormal code with its reason and how it is checked."""
    return _table(("異常代碼", "異常原因", "檢核/管理說明"),
                  [(ctx["abn"], ctx["abn_reason"], "需填寫「健保卡作業異常狀況報備單」向本署分區業務組報備")])


def _reason_codes_table(rng: random.Random, ctx: dict) -> str:
    """New or changed reasons for not paying a claim after review."""
    reasons = ("病歷記載不完整", "檢查(驗)與病情無關", "用藥未符合適應症", "住院日數過長", "手術適應症不符")
    rows = [(f"0{rng.randint(100, 399)}{rng.choice('ABCD')}", r, rng.choice(("新增", "修正")))
            for r in rng.sample(reasons, 3)]
    return _table(("代碼", "不予支付理由", "增修"), rows)


TABLES = {"point_values": _points_table, "region_points": _region_points_table,
          "maintenance": _maintenance_table, "course": _course_table, "recall": _recall_table,
          "abnormal": _abnormal_table, "reason_codes": _reason_codes_table, "": lambda rng, ctx: ""}


# ─────────────────────────────── saving ───────────────────────────────

def save_all(entries: list[dict], storage) -> None:
    """Create what is missing, update what differs, attach files to rows that have none."""
    existing = {(a.kind, a.title, a.publish_at): a for a in
                Announcement.select().where(Announcement.kind.in_(["hq", "regional"]))}
    for entry in entries:
        fields = _fields(entry)
        row = existing.get((fields["kind"], clean_html(fields["title"]).strip(), fields["publish_at"]))
        if row is None or not _unchanged(row, fields):
            row = announcement_logic.save(announcement=row, **fields)
        if entry.get("attachments") and not row.attachments.count():
            _attach(row, entry, storage)


def _fields(entry: dict) -> dict:
    """The keyword arguments of announcements.save for one entry."""
    return dict(kind=entry["kind"], title=entry["title"], content=entry.get("content", ""),
                department=entry.get("department", ""), keywords=entry.get("keywords", ""),
                category=entry.get("category", ""), region=entry.get("region", ""),
                contact_name=entry.get("contact_name", ""), contact_phone=entry.get("contact_phone", ""),
                publish_at=entry["publish_at"], expire_at=entry.get("expire_at"))


def _unchanged(row: Announcement, fields: dict) -> bool:
    """Whether a stored announcement already says what the entry says."""
    return (row.content == clean_html(fields["content"]).strip()
            and row.expire_at == fields["expire_at"]
            and all(getattr(row, k) == fields[k].strip() for k in
                    ("department", "keywords", "category", "region", "contact_name", "contact_phone")))


def _attach(row: Announcement, entry: dict, storage) -> None:
    """Generate and attach the entry's files (PDF or ODT by extension)."""
    for name in entry["attachments"]:
        stem, fmt = name.rsplit(".", 1)
        stored = demo.store(storage, name, fmt.lower(), stem, entry.get("content") or entry["title"])
        announcement_logic.attach(row, stored)


# ─────────────────────────────── member contacts ───────────────────────────────

def load_contacts(data: dict) -> int:
    """The member 聯絡窗口 tree: 服務類別 → up to three levels → contacts on the leaves."""
    cache: dict = {}
    for position, category in enumerate(data["category"]):
        levels = category.get("levels", [])
        root = _group(cache, None, category["name"], position, levels[0] if levels else "")
        leaves: dict[tuple, list[dict]] = {}
        for person in category.get("contact", []):
            leaves.setdefault(tuple(person["path"]), []).append(person)
        siblings: dict = {}
        for path, people in leaves.items():
            group = root
            for depth, name in enumerate(path, start=1):
                order = siblings.setdefault(group.id, [])
                if name not in order:
                    order.append(name)
                label = levels[depth] if depth < len(path) and depth < len(levels) else ""
                group = _group(cache, group, name, order.index(name), label)
            _replace_contacts(group, [_contact_fields(category, person) for person in people])
    return (Contact.select().join(ContactGroup)
            .where(ContactGroup.audience == "member").count())


def _group(cache: dict, parent: ContactGroup | None, name: str, position: int, child_label: str) -> ContactGroup:
    """A member contact group matched by parent and name (created, or repositioned and relabelled)."""
    key = (parent.id if parent else None, name)
    if key in cache:
        return cache[key]
    parent_match = ContactGroup.parent.is_null() if parent is None else (ContactGroup.parent == parent)
    group = ContactGroup.get_or_none((ContactGroup.audience == "member") & parent_match
                                     & (ContactGroup.name == name))
    if group is None:
        group = ContactGroup.create(parent=parent, audience="member", name=name, position=position,
                                    child_label=child_label)
    elif (group.position, group.child_label) != (position, child_label):
        group.position, group.child_label = position, child_label
        group.save(only=[ContactGroup.position, ContactGroup.child_label])
    cache[key] = group
    return group


def _contact_fields(category: dict, person: dict) -> dict:
    """機關 and 單位 from the path levels named so, unless the contact names them."""
    levels, path = category.get("levels", []), person["path"]
    agency = path[levels.index("機關")] if "機關" in levels else category.get("agency", "健保局")
    unit = path[levels.index("單位")] if "單位" in levels else ""
    return dict(agency=person.get("agency", agency), unit=person.get("unit", unit), name=person["name"],
                phone=person.get("phone", ""), email=person.get("email", ""))


def _replace_contacts(group: ContactGroup, wanted: list[dict]) -> None:
    """Make a leaf's contacts exactly `wanted`, in order (untouched when already so)."""
    keys = ("agency", "unit", "name", "phone", "email")
    current = [{k: getattr(c, k) for k in keys} for c in group.contacts.order_by(Contact.position, Contact.id)]
    if current == wanted:
        return
    Contact.delete().where(Contact.group == group).execute()
    for position, fields in enumerate(wanted):
        Contact.create(group=group, position=position, **fields)
