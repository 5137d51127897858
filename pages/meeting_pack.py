"""Meeting pack: the headline figures and the key chart of every page, as one HTML or PDF file."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import export, pack
from reemploy.i18n import _

session = ui.open_page(
    "pages/meeting_pack.py",
    _("Everything the review meeting needs in one file, for the filters in the sidebar: the "
      "headline figures against the previous period of equal length and the key chart of every "
      "page, with definitions, sample sizes and suppression notes."),
)
ui.require_records(session)
document = ui.meeting_pack(session)
# Names from the data are often Chinese whatever the language: warn in both.
if not export.cjk_font_available():
    st.warning(_(export.CJK_FONTS_MISSING), icon=":material/font_download_off:")
ui.pack_downloads(document)
st.caption(_("The same view in the dashboard: {link}").format(link=document.url))
if not pack.base_url_is_set():
    st.info(_("`{variable}` is not set, so the pack's link back to the dashboard is taken from "
              "this browser's address ({root}); in the command line's pack, and on a server "
              "officials reach at another address, it points at `localhost`. Set `{variable}` to "
              "the dashboard's public address and restart the app.").format(
        variable=pack.BASE_URL_ENV_VAR, root=document.url.split("?")[0]),
        icon=":material/link:")

st.subheader(_("Headline figures against the previous period"))
st.caption(ui.fmt.markdown_text(document.period_note))
st.dataframe(pack.headline_table(document), hide_index=True, key="meeting_pack_headline",
             height="content")
st.subheader(_("Charts in the pack"))
st.markdown("\n".join(
    "1. " + _("**{page}**: {title}").format(page=s.entry.page_label,
                                           title=ui.fmt.markdown_text(pack.figure_title(s.figure)))
    for s in document.sections))
