"""Reading web archives: WARC/ARC records into documents (:mod:`.records`), HTTP payloads into
text (:mod:`.decode`), and input path lists into files (:mod:`.paths`)."""
