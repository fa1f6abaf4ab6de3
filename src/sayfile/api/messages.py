"""The page's words in each interface language, and choosing the language for a request
(a `?lang=` switch, then its cookie, then `Accept-Language`)."""

from __future__ import annotations

# The first is the fallback when nothing the browser asks for is available.
LANGUAGES = ("en", "zh-CN")
# What the switch shows for each language, written in that language.
LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文"}
COOKIE = "sayfile_lang"

# One table for every string the page shows, on the server and in app.js (which gets the
# table of the chosen language). `{name}` marks a value filled in where the string is used.
# `error_<code>` is the plain-words lead for an error code of api/errors.py; the server's
# message follows it as the detail, so those leads take no values.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "sayfile — text to speech",
        "lead": "Type or paste text, pick a voice, and get an audio file. "
        "Everything happens on this server.",
        "switch": "Interface language",
        "text": "Text",
        "text_placeholder": "Type or paste text in any language…",
        "count": "{count} / {limit} characters",
        "limits": "Download takes up to {direct} characters; a link up to {job}.",
        "over_direct": "Over the Download limit of {limit} characters: use Get link.",
        "book": "Or a book file (EPUB, Markdown or plain text)",
        "book_hint": "With a file chosen, Get link reads the file instead of the text, "
        "one chapter per heading.",
        "book_clear": "Use the text instead",
        "book_language_reset": "Language set to Any: the book's own language picks the "
        "voice. Choose a language or voice to override it.",
        "language": "Language",
        "language_any": "Any — the voice decides",
        "languages_neural": "With a neural voice ★",
        "languages_other": "Other languages (espeak-ng)",
        "voice": "Voice",
        "voice_default": "Default: {name}",
        "voice_best": "Best voice for the language",
        "neural": "neural",
        "hard_to_understand": "hard to understand",
        "format": "Format",
        "format_epub": "epub: a read-along book (the audio and the text; Get link makes it)",
        "text_format": "Text is",
        "text_format_auto": "Detected (Markdown, HTML, SSML or plain)",
        "text_format_plain": "Plain text, read as written",
        "text_format_markdown": "Markdown or HTML",
        "text_format_ssml": "SSML",
        "speed": "Speed",
        "speed_hint": "0.25 to 4; 1 is normal.",
        "api_key": "API key",
        "remember_key": "Remember the key in this browser",
        "download": "Download",
        "get_link": "Get link",
        "listen": "Listen",
        "listen_hint": "Listen plays a preview of text up to {limit} characters.",
        "listen_working": "Making a preview…",
        "listen_too_long": "Listen is for short text (up to {limit} characters). "
        "Use Download or Get link for the whole text.",
        "preview": "Preview",
        "voice_sample": "Hear this voice",
        "mix_with": "Mix with…",
        "mix_none": "No other voice",
        "mix_share": "Share of the second voice",
        "job": "Your link",
        "progress": "Progress",
        "queued": "Waiting for its turn…",
        "running": "Working… {percent}%",
        "ready": "Ready: {duration} of audio.",
        "ready_epub": "Ready: a read-along EPUB book with {duration} of audio. Save it and open "
        "it in a reading app that plays its audio (Thorium, Apple Books).",
        "eta": "about {time} left",
        "eta_soon": "less than a minute left",
        "queued_eta": "Waiting for its turn… then about {time} of work.",
        "time_minutes": "{minutes} min",
        "time_hours": "{hours} h {minutes} min",
        "cancel": "Cancel",
        "cancelled": "Cancelled. Nothing was kept.",
        "link": "Link",
        "copy_link": "Copy link",
        "copied": "Link copied.",
        "copy_manual": "The link is selected: press Ctrl+C (or ⌘C) to copy it.",
        "expires": "Expires {time}.",
        "save": "Save the file",
        "subtitles_srt": "Subtitles (SRT)",
        "subtitles_vtt": "Subtitles (WebVTT)",
        "captions": "Captions",
        "player": "Player",
        "read_along": "Read along",
        "read_along_hint": "The word (or sentence) being said is marked. Click one, or reach it "
        "with Tab and the arrow keys and press Enter, to move the player there.",
        "chapters": "Chapters",
        "chapters_making": "Each chapter can be played as soon as it is made.",
        "chapters_done": "Choose a chapter to play the book from its start.",
        "chapter_queued": "queued",
        "chapter_making": "being made…",
        "chapter_ready": "ready",
        "chapter_play": "Chapter {number}: {title}",
        "chapter_skipped": "not made",
        "book_chapters": "Chapters to make",
        "book_chapters_hint": "Front matter (cover, title page, copyright, contents) is left "
        "out unless you tick it.",
        "book_reading": "Reading the book…",
        "book_size": "{chapters} of {total} chapters, about {duration}, up to {size}.",
        "book_none": "Tick at least one chapter.",
        "bitrate": "Bit rate",
        "bitrate_default": "{kbps} kbit/s (default)",
        "chapter_chars": "{count} characters",
        "recent": "Recent links from this browser",
        "recent_hint": "Kept in this browser until they expire.",
        "forget": "Forget",
        "forget_label": "Forget “{title}”",
        "state_queued": "waiting",
        "state_running": "working {percent}%",
        "state_done": "ready",
        "state_failed": "failed",
        "footer": "sayfile runs offline: its fonts, scripts and voices are all served by "
        "this server. Files are deleted when their link expires.",
        "error_text_too_long": "The text is too long.",
        "error_text_too_long_count": "The text is too long: {count} characters, and the "
        "limit is {limit}.",
        "error_text_too_long_direct": "The text is too long for Download: {count} characters, "
        "and Download takes up to {limit}. Get link takes up to {job}.",
        "error_empty": "Type or paste some text first.",
        "error_unknown_voice": "That voice is not available on this server. "
        "Pick one from the list.",
        "error_unknown_language": "No voice on this server speaks that language.",
        "error_invalid_blend": "That mix of voices cannot be made.",
        "error_unknown_format": "That audio format is not available. Pick one from the list.",
        "error_invalid_input": "Something in the form is not right.",
        "error_busy": "The server is busy right now. Try again in a few seconds.",
        "error_store_unavailable": "The server cannot reach its job records right now. "
        "Try again in a few seconds.",
        "error_storage_full": "The server's storage is full until older files expire. "
        "Try again later.",
        "error_expired": "This link has expired: its file was deleted. "
        "Press Get link to make a new one.",
        "error_not_found": "This link does not exist any more (it was cancelled or deleted).",
        "error_failed": "Making the audio failed.",
        "book_error": "That book file cannot be read.",
        "error_key": "This server needs a valid API key: fill in the API key field.",
        "error_invalid_api_key": "This server needs a valid API key: fill in the API key field.",
        "error_rate_limited": "You have sent many requests in a short time. Wait a little and "
        "try again.",
        "error_too_many_active": "You already have as many files being made as one person may. "
        "Wait for one to finish.",
        "error_disk_full": "The server ran out of disk space while making the audio. Try "
        "again later.",
        "error_engine_error": "The voice failed to make the audio. Try another voice.",
        "error_engine_timeout": "The voice took too long on a piece of the text. Try again, "
        "or try another voice.",
        "error_interrupted": "The server restarted while making the audio. Please try again.",
        "error_being_downloaded": "This one-time link is being downloaded right now.",
        "error_chapter_joined": "The book is done: this chapter is now part of the book's file.",
        "error_range_not_satisfiable": "The part of the file asked for is not in it.",
        "error_cross_site_form": "This form was sent from another site. Use this server's page.",
        "error_worker_lost": "The server making the audio stopped answering. Please try again.",
        "error_body_too_large": "The text is far too long to send.",
        "error_upload_too_large": "The book file is too large for this server.",
        "error_book_too_long": "The book is too long for this server.",
        "error_too_much_silence": "The text asks for more pauses than this server allows.",
        "error_unreadable_text": "The text could not be read in any known encoding.",
        "error_body_too_large_limit": "The request is larger than this server takes: up to "
        "{limit} ({setting}). Send a long text as a book file instead.",
        "error_upload_too_large_limit": "The book file is larger than this server takes: up to "
        "{limit} a file. The operator can raise {setting}.",
        "error_upload_too_large_size": "The book file is {size}; this server takes files of up "
        "to {limit}. The operator can raise {setting}.",
        "error_book_too_long_limit": "The book is longer than this server takes: up to {limit} "
        "characters. The operator can raise {setting}.",
        "error_book_too_long_count": "The book was read, but it has {count} characters; this "
        "server makes books of up to {limit}. The operator can raise {setting}.",
        "error_storage_room": "The server's storage has room for {room} more, and this would "
        "need about {size}. Try again when older files expire, or the operator can raise "
        "{setting}.",
        "error_not_ready": "The audio is not ready yet. Wait a moment and try again.",
        "error_network": "The server could not be reached. Check the connection and try again.",
        "error_other": "Something went wrong (HTTP {status}).",
        "details": "Details:",
    },
    "zh-CN": {
        "title": "sayfile — 文字转语音",
        "lead": "输入或粘贴文字，选择声音，得到音频文件。一切都在这台服务器上完成。",
        "switch": "界面语言",
        "text": "文字",
        "text_placeholder": "输入或粘贴任意语言的文字…",
        "count": "{count} / {limit} 个字符",
        "limits": "“下载”最多 {direct} 个字符；“获取链接”最多 {job} 个字符。",
        "over_direct": "超过了“下载”的 {limit} 个字符上限：请使用“获取链接”。",
        "book": "或者选择一本书的文件（EPUB、Markdown 或纯文本）",
        "book_hint": "选择文件后，“获取链接”会朗读文件而不是上面的文字，每个标题为一章。",
        "book_clear": "改用文字",
        "book_language_reset": "语言已改为“不限”：由书本身的语言决定声音。"
        "如需指定，请重新选择语言或声音。",
        "language": "语言",
        "language_any": "不限（由声音决定）",
        "languages_neural": "有神经网络声音 ★",
        "languages_other": "其他语言（espeak-ng）",
        "voice": "声音",
        "voice_default": "默认：{name}",
        "voice_best": "该语言的最佳声音",
        "neural": "神经网络",
        "hard_to_understand": "不易听清",
        "format": "格式",
        "format_epub": "epub：有声同步电子书（音频加文字，用“获取链接”生成）",
        "text_format": "文本格式",
        "text_format_auto": "自动识别（Markdown、HTML、SSML 或纯文本）",
        "text_format_plain": "纯文本（按原样朗读）",
        "text_format_markdown": "Markdown 或 HTML",
        "text_format_ssml": "SSML",
        "speed": "语速",
        "speed_hint": "0.25 到 4；1 为正常语速。",
        "api_key": "API 密钥",
        "remember_key": "在此浏览器中记住密钥",
        "download": "下载",
        "get_link": "获取链接",
        "listen": "试听",
        "listen_hint": "“试听”可预览不超过 {limit} 个字符的文字。",
        "listen_working": "正在生成试听…",
        "listen_too_long": "“试听”只适用于短文字（最多 {limit} 个字符）。"
        "完整文字请使用“下载”或“获取链接”。",
        "preview": "试听",
        "voice_sample": "听听这个声音",
        "mix_with": "混合另一个声音…",
        "mix_none": "不混合",
        "mix_share": "第二个声音的比例",
        "job": "你的链接",
        "progress": "进度",
        "queued": "正在排队…",
        "running": "正在生成… {percent}%",
        "ready": "完成：音频时长 {duration}。",
        "ready_epub": "完成：有声同步 EPUB 电子书，音频时长 {duration}。"
        "保存后用能播放其音频的阅读软件（Thorium、Apple Books）打开。",
        "eta": "约剩 {time}",
        "eta_soon": "剩不到 1 分钟",
        "queued_eta": "正在排队…开始后约需 {time}。",
        "time_minutes": "{minutes} 分钟",
        "time_hours": "{hours} 小时 {minutes} 分钟",
        "cancel": "取消",
        "cancelled": "已取消，没有保留任何文件。",
        "link": "链接",
        "copy_link": "复制链接",
        "copied": "链接已复制。",
        "copy_manual": "链接已选中：请按 Ctrl+C（或 ⌘C）复制。",
        "expires": "过期时间：{time}。",
        "save": "保存文件",
        "subtitles_srt": "字幕（SRT）",
        "subtitles_vtt": "字幕（WebVTT）",
        "captions": "字幕",
        "player": "播放器",
        "read_along": "跟读",
        "read_along_hint": "正在朗读的词（或句子）会被标出。"
        "点击它，或用 Tab 键和方向键选中后按回车，播放器就会跳到那里。",
        "chapters": "章节",
        "chapters_making": "每一章生成后即可播放。",
        "chapters_done": "选择一章，从该章开头播放整本书。",
        "chapter_queued": "排队中",
        "chapter_making": "正在生成…",
        "chapter_ready": "可以播放",
        "chapter_play": "第 {number} 章：{title}",
        "chapter_skipped": "不生成",
        "book_chapters": "要生成的章节",
        "book_chapters_hint": "封面、书名页、版权页和目录默认不朗读，勾选后才会生成。",
        "book_reading": "正在读取书籍…",
        "book_size": "共 {total} 章，选了 {chapters} 章，约 {duration}，最多 {size}。",
        "book_none": "请至少勾选一章。",
        "bitrate": "码率",
        "bitrate_default": "{kbps} kbit/s（默认）",
        "chapter_chars": "{count} 字",
        "recent": "此浏览器最近的链接",
        "recent_hint": "保存在此浏览器中，直到过期。",
        "forget": "移除",
        "forget_label": "移除“{title}”",
        "state_queued": "排队中",
        "state_running": "生成中 {percent}%",
        "state_done": "已完成",
        "state_failed": "失败",
        "footer": "sayfile 可离线运行：字体、脚本和声音都由这台服务器提供。"
        "链接过期后文件即被删除。",
        "error_text_too_long": "文字太长。",
        "error_text_too_long_count": "文字太长：共 {count} 个字符，上限是 {limit}。",
        "error_text_too_long_direct": "文字太长，无法直接下载：共 {count} 个字符，"
        "“下载”最多 {limit} 个字符，“获取链接”最多 {job} 个字符。",
        "error_empty": "请先输入或粘贴文字。",
        "error_unknown_voice": "服务器上没有这个声音，请从列表中选择。",
        "error_unknown_language": "服务器上没有说这种语言的声音。",
        "error_invalid_blend": "无法混合这些声音。",
        "error_unknown_format": "没有这种音频格式，请从列表中选择。",
        "error_invalid_input": "表单中有内容不正确。",
        "error_busy": "服务器正忙，请过几秒钟再试。",
        "error_store_unavailable": "服务器暂时无法访问任务记录，请过几秒钟再试。",
        "error_storage_full": "服务器存储空间已满，需等旧文件过期。请稍后再试。",
        "error_expired": "此链接已过期，文件已被删除。请点击“获取链接”重新生成。",
        "error_not_found": "此链接已不存在（已被取消或删除）。",
        "error_failed": "音频生成失败。",
        "book_error": "无法读取这个书籍文件。",
        "error_key": "此服务器需要有效的 API 密钥：请填写“API 密钥”一栏。",
        "error_invalid_api_key": "此服务器需要有效的 API 密钥：请填写“API 密钥”一栏。",
        "error_rate_limited": "短时间内请求太多，请稍等片刻再试。",
        "error_too_many_active": "你正在生成的文件已达到每人上限，请等其中一个完成。",
        "error_disk_full": "服务器在生成音频时磁盘空间不足，请稍后再试。",
        "error_engine_error": "该声音生成音频失败，请换一个声音试试。",
        "error_engine_timeout": "该声音处理一段文字用时过长，请再试一次，或换一个声音。",
        "error_interrupted": "生成音频时服务器重新启动了，请再试一次。",
        "error_being_downloaded": "这个一次性链接正在被下载。",
        "error_chapter_joined": "整本书已生成：这一章已并入整本书的文件。",
        "error_range_not_satisfiable": "请求的文件片段不在文件中。",
        "error_cross_site_form": "此表单来自其他网站，请使用本服务器的页面。",
        "error_worker_lost": "生成音频的服务器没有响应，请再试一次。",
        "error_body_too_large": "文字太长，无法发送。",
        "error_upload_too_large": "书籍文件太大，本服务器不接受。",
        "error_book_too_long": "这本书太长，本服务器不接受。",
        "error_too_much_silence": "文字中的停顿太多，超过了本服务器允许的长度。",
        "error_unreadable_text": "无法用任何已知编码读取这段文字。",
        "error_body_too_large_limit": "请求超过了本服务器接受的大小（最多 {limit}，设置项 "
        "{setting}）。长文字请改为上传书籍文件。",
        "error_upload_too_large_limit": "书籍文件超过了本服务器接受的大小：每个文件最多 {limit}。"
        "管理员可以调高 {setting}。",
        "error_upload_too_large_size": "书籍文件大小为 {size}，本服务器只接受最大 {limit} 的文件。"
        "管理员可以调高 {setting}。",
        "error_book_too_long_limit": "这本书超过了本服务器接受的长度：最多 {limit} 个字符。"
        "管理员可以调高 {setting}。",
        "error_book_too_long_count": "这本书已读取，但共有 {count} 个字符；本服务器只制作最多 "
        "{limit} 个字符的书。管理员可以调高 {setting}。",
        "error_storage_room": "服务器存储空间只剩 {room}，而这次大约需要 {size}。"
        "请等旧文件过期后再试，或请管理员调高 {setting}。",
        "error_not_ready": "音频还没有生成好，请稍等片刻再试。",
        "error_network": "无法连接服务器。请检查网络后重试。",
        "error_other": "出错了（HTTP {status}）。",
        "details": "详情：",
    },
}

# The language the page preselects for speech when a visitor has chosen none: Chinese
# visitors most likely type Chinese; English ones get the default (English) voice.
SPEECH_LANGUAGE = {"en": None, "zh-CN": "zh"}


def supported_language(tag: str | None) -> str | None:
    """The interface language for a BCP 47 tag (`zh`, `zh-Hans-CN`, `en-GB`...), or None."""
    if not tag:
        return None
    primary = tag.strip().split("-")[0].split("_")[0].lower()
    for language in LANGUAGES:
        if language.split("-")[0].lower() == primary:
            return language
    return None


def from_accept_language(header: str | None) -> str:
    """The best interface language for an `Accept-Language` header (q-values honoured)."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = supported_language(tag)
        if language is not None and quality > 0:
            choices.append((-quality, position, language))
    return min(choices)[2] if choices else LANGUAGES[0]


def choose_language(switch: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The switch wins, then the remembered choice, then what the browser asks for."""
    return (
        supported_language(switch)
        or supported_language(cookie)
        or from_accept_language(accept_language)
    )
