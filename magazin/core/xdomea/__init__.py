"""xdomea: the German e-government standard for handing records to the archive (Aussonderung)."""
