"""Scripts written without spaces in the heuristics stage (issue 11, failure 2).

Thai used to be split on spaces (no segmenter installed): an 837-character article was a few
dozen "words", and ``min_doc_words: 50`` removed it as ``filter:gopher_short_doc`` while the
same article in English was kept. Thai now goes through PyThaiNLP (newmm, as datatrove assigns
it); Khmer, Lao, Burmese and Tibetan, which have no segmenter here, through character clusters
(:class:`corpus.text.word_tokenizers.ClusterTokenizer`). The articles are written for this test.
"""

from __future__ import annotations

from corpus.text.lang_rules import rules_for
from corpus.text.quality_filters import FilterChain
from corpus.text.word_tokenizers import CLUSTERS_PER_WORD, ClusterTokenizer, WordsOnly, word_tokenizer

THAI_ARTICLE = "\n".join(
    [
        "ห้องสมุดประจำเมืองเปิดเร็วกว่าปกติในวันเสาร์ เพื่อให้ครอบครัวที่ทำงานในวันธรรมดาได้มีเวลาอ่านหนังสือด้วยกัน "
        "เจ้าหน้าที่บอกว่าจำนวนผู้มาใช้บริการเพิ่มขึ้นเกือบสองเท่าตั้งแต่เริ่มโครงการนี้เมื่อปีที่แล้ว",
        "ในช่วงเช้า เด็กๆ จะนั่งฟังนิทานอยู่ริมหน้าต่าง ส่วนพ่อแม่มักเลือกยืมหนังสือสอนทำอาหารและหนังสือเกี่ยวกับการปลูกผัก "
        "ไปอ่านตลอดสัปดาห์ ห้องสมุดยังจัดมุมเงียบสำหรับนักเรียนที่ต้องการทบทวนบทเรียนก่อนสอบด้วย",
        "ช่วงบ่ายมีกิจกรรมสอนใช้คอมพิวเตอร์สำหรับผู้สูงอายุ อาสาสมัครจากมหาวิทยาลัยใกล้เคียงมาช่วยแนะนำวิธีส่งอีเมลและค้นหาข้อมูล "
        "ผู้เข้าร่วมหลายคนบอกว่ารู้สึกมั่นใจมากขึ้นเมื่อต้องติดต่อกับลูกหลานที่อยู่ต่างจังหวัด",
        "การเข้าชมไม่มีค่าใช้จ่ายและไม่ต้องลงทะเบียนล่วงหน้า ผู้อำนวยการห้องสมุดหวังว่าจะขยายเวลาเปิดในวันอาทิตย์ได้ภายในปีหน้า "
        "หากได้รับงบประมาณเพิ่มเติมจากเทศบาล และขอเชิญชวนให้ทุกคนแวะมาใช้บริการ",
    ]
)
ENGLISH_ARTICLE = "\n".join(
    [
        "The town library now opens earlier on Saturdays, so that families who work during the week can "
        "read together. Staff say the number of visitors has almost doubled since the scheme began last year.",
        "In the morning, children listen to stories by the window, while parents tend to borrow cookbooks and "
        "books about growing vegetables to read during the week. The library also keeps a quiet corner for "
        "students revising before their exams.",
        "In the afternoon there is a computer class for older people. Volunteers from the nearby university "
        "show how to send e-mail and search for information, and many participants say they feel more "
        "confident keeping in touch with grandchildren who live in other provinces.",
        "Entry is free and nobody needs to register in advance. The director hopes to open on Sundays as well "
        "next year, if the council grants more funding, and invites everyone to drop by.",
    ]
)


def test_thai_article_is_kept_like_its_english_version():
    assert 800 <= len(THAI_ARTICLE) <= 900
    tok, fallback = word_tokenizer("th")
    assert not fallback and type(tok.inner).__name__ == "ThaiTokenizer"
    assert len(WordsOnly(tok).word_tokenize(THAI_ARTICLE)) >= 100  # was ~15 whitespace "words"
    assert FilterChain("en", [])(ENGLISH_ARTICLE) is None
    assert FilterChain("th", [])(THAI_ARTICLE) is None
    assert FilterChain("th", [])(THAI_ARTICLE.split("\n")[0][:120]) == "filter:gopher_short_doc"


KHMER = (
    "បណ្ណាល័យក្រុងបើកទ្វារលឿនជាងធម្មតានៅថ្ងៃសៅរ៍។ កុមារស្តាប់រឿងនិទាននៅក្បែរបង្អួច "
    "ហើយឪពុកម្តាយខ្ចីសៀវភៅធ្វើម្ហូបសម្រាប់អានពេញមួយសប្តាហ៍។ ការចូលទស្សនាគឺឥតគិតថ្លៃ។"
)
LAO = "ຫ້ອງສະໝຸດຂອງເມືອງເປີດໄວກວ່າປົກກະຕິໃນວັນເສົາ. ເດັກນ້ອຍຟັງນິທານຢູ່ຂ້າງປ່ອງຢ້ຽມ ແລະ ພໍ່ແມ່ຢືມປຶ້ມແຕ່ງອາຫານ."
BURMESE = "မြို့တော်စာကြည့်တိုက်သည် စနေနေ့တွင် ပုံမှန်ထက် စောစီးစွာ ဖွင့်သည်။ ကလေးများသည် ပြတင်းပေါက်နားတွင် ပုံပြင်နားထောင်ကြသည်။"
TIBETAN = "གྲོང་ཁྱེར་གྱི་དཔེ་མཛོད་ཁང་གཟའ་སྤེན་པར་སྔ་མོ་ནས་སྒོ་འབྱེད། བྱིས་པ་ཚོས་སྒེའུ་ཁུང་གི་འགྲམ་དུ་སྒྲུང་ཉན།"


def test_unsegmented_scripts_count_character_clusters():
    for lang, text in [("km", KHMER), ("lo", LAO), ("my", BURMESE), ("bo", TIBETAN)]:
        tok, fallback = word_tokenizer(lang)
        assert fallback and isinstance(tok.inner, ClusterTokenizer), lang
        clusters = tok.word_tokenize(text)
        assert len(clusters) > 3 * len(text.split()), lang  # not one "word" per space-separated run
        assert "".join(clusters) == "".join(text.split()), lang  # clusters cover the text exactly
        rules = rules_for(lang, tok, fallback)["gopher_quality"]
        assert rules["min_doc_words"] == 50 * CLUSTERS_PER_WORD
        assert rules["min_avg_word_length"] is None and rules["max_avg_word_length"] is None
        chain = FilterChain(lang, [])
        assert chain(text) == "filter:gopher_short_doc", lang  # one short paragraph
        long_text = "\n".join([text] * 8)
        assert chain(long_text) != "filter:gopher_short_doc", lang


def test_punctuation_tokens_are_not_words():
    tok, _ = word_tokenizer("de")
    words = WordsOnly(tok).word_tokenize("Die Bücherei öffnet früh, samstags – und sonntags?")
    assert words == ["Die", "Bücherei", "öffnet", "früh", "samstags", "und", "sonntags"]
    zh, _ = word_tokenizer("zh")
    assert "，" not in WordsOnly(zh).word_tokenize("图书馆每周六开门，孩子们听故事。")
