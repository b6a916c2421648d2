"""Short passages in many languages and scripts, written for these tests (not copied text).

Used where a test needs real-looking text in a given script: charset round trips, shingling
and near-duplicate recall. Each passage avoids characters whose mapping differs between a
legacy charset and its WHATWG superset (WAVE DASH, the yen sign ...).
"""

from __future__ import annotations

SAMPLES: dict[str, str] = {
    "en": (
        "The town library opens early on Saturdays. Children listen to stories by the window, "
        "and parents borrow cookbooks for the week. Entry is free and nobody needs to register."
    ),
    "fr": (
        "La bibliothèque municipale ouvre à neuf heures le samedi. Les enfants écoutent des contes "
        "près de la fenêtre, été comme hiver, et les parents empruntent des recettes pour la semaine. "
        "L'entrée est gratuite ; aucune inscription n'est nécessaire."
    ),
    "de": (
        "Die Stadtbücherei öffnet samstags früher als gewöhnlich. Für Kinder gibt es eine Vorlesestunde, "
        "und die Größe des Lesesaals überrascht viele Besucher. Gebühren fallen nicht an; eine Anmeldung "
        "ist nicht nötig."
    ),
    "pl": (
        "Biblioteka miejska w Łodzi otwiera się w sobotę wcześniej niż zwykle. Dzieci słuchają bajek przy "
        "oknie, a rodzice pożyczają książki kucharskie na cały tydzień. Wstęp jest bezpłatny i nie trzeba "
        "się zapisywać."
    ),
    "cs": (
        "Městská knihovna v Brně otevírá v sobotu dříve než obvykle. Děti poslouchají pohádky u okna a "
        "rodiče si půjčují kuchařky na celý týden. Vstup je zdarma a není třeba se registrovat."
    ),
    "hu": (
        "A városi könyvtár szombaton korábban nyit a szokásosnál. A gyerekek az ablak mellett hallgatják a "
        "meséket, a szülők pedig szakácskönyveket kölcsönöznek egész hétre. A belépés díjtalan."
    ),
    "tr": (
        "Şehir kütüphanesi cumartesi günleri her zamankinden erken açılıyor. Çocuklar pencerenin yanında "
        "masal dinliyor, ebeveynler ise hafta boyunca okumak için yemek kitapları ödünç alıyor. Giriş ücretsizdir."
    ),
    "is": (
        "Bæjarbókasafnið opnar fyrr á laugardögum. Börnin hlusta á sögur við gluggann og foreldrarnir fá "
        "lánaðar matreiðslubækur fyrir vikuna. Aðgangur er ókeypis og enginn þarf að skrá sig."
    ),
    "lt": (
        "Miesto biblioteka šeštadieniais atsidaro anksčiau nei įprastai. Vaikai prie lango klausosi "
        "pasakų, o tėvai skolinasi kulinarijos knygas visai savaitei. Įėjimas nemokamas."
    ),
    "ru": (
        "Городская библиотека по субботам открывается раньше обычного. Дети слушают сказки у окна, а "
        "родители берут поваренные книги на всю неделю. Вход свободный, записываться не нужно."
    ),
    "uk": (
        "Міська бібліотека в суботу відчиняється раніше, ніж зазвичай. Діти слухають казки біля вікна, а "
        "батьки позичають кулінарні книжки на весь тиждень. Вхід вільний, реєструватися не потрібно."
    ),
    "el": (
        "Η δημοτική βιβλιοθήκη ανοίγει νωρίτερα το Σάββατο. Τα παιδιά ακούνε παραμύθια δίπλα στο παράθυρο "
        "και οι γονείς δανείζονται βιβλία μαγειρικής για όλη την εβδομάδα. Η είσοδος είναι ελεύθερη."
    ),
    "he": (
        "הספרייה העירונית נפתחת מוקדם יותר בשבת. הילדים מקשיבים לסיפורים ליד החלון, וההורים שואלים "
        "ספרי בישול לכל השבוע. הכניסה חופשית ואין צורך להירשם."
    ),
    "ar": (
        "تفتح مكتبة المدينة أبوابها مبكرا يوم السبت. يستمع الأطفال إلى الحكايات قرب النافذة، ويستعير "
        "الآباء كتب الطبخ للأسبوع كله. الدخول مجاني ولا حاجة إلى التسجيل."
    ),
    "th": (
        "ห้องสมุดประจำเมืองเปิดเร็วกว่าปกติในวันเสาร์ เด็กๆ ฟังนิทานอยู่ริมหน้าต่าง "
        "ส่วนพ่อแม่ยืมหนังสือสอนทำอาหารไปอ่านตลอดสัปดาห์ เข้าชมได้ฟรีและไม่ต้องลงทะเบียน"
    ),
    "vi": (
        "Thư viện thành phố mở cửa sớm hơn vào thứ Bảy. Trẻ em nghe kể chuyện bên cửa sổ, còn cha mẹ mượn "
        "sách nấu ăn cho cả tuần. Vào cửa miễn phí và không cần đăng ký."
    ),
    "ja": (
        "駅前の図書館は、毎週土曜日にいつもより早く開館します。子どもたちは窓際で読み聞かせを聞き、"
        "保護者は一週間分の料理の本を借りていきます。入館は無料で、事前の登録は必要ありません。"
    ),
    "zh": (
        "这座城市的公共图书馆每周六都会提前开门。孩子们在窗边听故事，家长们借走一周要看的菜谱。"
        "入馆免费，不需要提前登记。馆内还有安静的自习区和一个小小的咖啡角。"
    ),
    "zh_hant": (
        "這座城市的公共圖書館每週六都會提前開門。孩子們在窗邊聽故事，家長們借走一週要看的食譜。"
        "入館免費，不需要提前登記。館內還有安靜的自習區和一個小小的咖啡角。"
    ),
    "ko": (
        "시립 도서관은 토요일마다 평소보다 일찍 문을 엽니다. 아이들은 창가에서 동화를 듣고, 부모들은 "
        "일주일 동안 볼 요리책을 빌려 갑니다. 입장은 무료이며 따로 등록할 필요가 없습니다."
    ),
}
